"""How each platform shapes a post, comment or user in its answers: the field paths the spiders read.

Pure functions from a replica ``Post`` (or comment dict) to the platform's JSON objects.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Post

CHINA_TZ = timezone(timedelta(hours=8))


def weibo_time(epoch: int) -> str:
    """Weibo's ``created_at``: ``Wed Oct 19 23:44:36 +0800 2022``."""
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime("%a %b %d %H:%M:%S %z %Y")


def title_and_body(post: Post) -> tuple[str, str]:
    """Authored text "title|body" splits into both; otherwise the title is the first 30 characters."""
    title, _, body = post.text.partition("|")
    return (title, body) if body else (post.text[:30], post.text)


def weibo_user(user_id: str, name: str) -> dict[str, Any]:
    return {"id": int(user_id), "screen_name": name, "profile_url": f"https://m.weibo.cn/u/{user_id}?uid={user_id}",
            "profile_image_url": "https://tvax1.sinaimg.cn/crop.0.0.180.180.180/default.jpg", "gender": "m"}


def weibo_mblog(post: Post) -> dict[str, Any]:
    text = post.text.replace("\n", "<br />")
    if post.long:  # search shows a cut text with a "全文" link; the detail page has it all
        text = text[:40] + f'...<a href="/status/{post.id}">全文</a>'
    return {
        "id": post.id, "mid": post.id, "bid": "N" + post.id[-8:], "created_at": weibo_time(post.published),
        "text": text, "source": "iPhone客户端", "region_name": "发布于 广东", "isLongText": post.long,
        "attitudes_count": 12, "comments_count": "1.2万", "reposts_count": 3, "pics": [],
        "user": weibo_user(post.author_id, post.author_name),
    }  # fmt: skip


def weibo_comment(comment: dict[str, Any]) -> dict[str, Any]:
    return {"id": int(comment["id"]), "text": escape(comment["text"]), "created_at": weibo_time(comment["published"]),
            "like_count": 2, "total_number": 0, "source": "来自广东", "user": weibo_user(comment["author_id"], comment["author_name"])}


def bili_video(post: Post, keyword: str = "") -> dict[str, Any]:
    title, description = title_and_body(post)
    highlighted = title.replace(keyword, f'<em class="keyword">{keyword}</em>') if keyword else title
    return {
        "type": "video", "id": int(post.id), "aid": int(post.id), "bvid": "BV1" + post.id[-9:], "title": highlighted,
        "description": description, "author": post.author_name, "mid": int(post.author_id), "typename": "财经商业",
        "arcurl": f"http://www.bilibili.com/video/av{post.id}", "pic": "//i0.hdslb.com/bfs/archive/demo.jpg",
        "play": "1.3万", "video_review": 3, "favorites": 20, "review": 8, "tag": ",".join(post.keywords),
        "pubdate": post.published, "senddate": post.published, "created": post.published, "duration": "3:21",
    }  # fmt: skip


def bili_reply(comment: dict[str, Any], aid: str) -> dict[str, Any]:
    return {"rpid": int(comment["id"]), "oid": int(aid), "type": 1, "parent": 0, "root": 0, "ctime": comment["published"],
            "like": 3, "rcount": 0, "content": {"message": comment["text"]},
            "member": {"mid": comment["author_id"], "uname": comment["author_name"], "sex": "保密", "sign": ""}}


def douyin_author(user_id: str, name: str) -> dict[str, Any]:
    return {"uid": user_id, "sec_uid": f"MS4wLjABAAAA{user_id}", "short_id": user_id, "nickname": name,
            "signature": "", "avatar_thumb": {"url_list": ["https://p3.douyinpic.com/aweme/100x100/demo.jpeg"]}}


def douyin_aweme(post: Post) -> dict[str, Any]:
    return {
        "aweme_id": post.id, "aweme_type": 0, "desc": post.text, "create_time": post.published, "ip_label": "广东",
        "author": douyin_author(post.author_id, post.author_name),
        "statistics": {"digg_count": 1200, "comment_count": 56, "share_count": 7, "collect_count": 9},
        "video": {"origin_cover": {"url_list": ["https://p3.douyinpic.com/cover.jpeg"]},
                  "play_addr": {"url_list": ["https://v3.douyinvod.com/demo.mp4"]}},
    }  # fmt: skip


def douyin_comment(comment: dict[str, Any], aweme_id: str) -> dict[str, Any]:
    return {"cid": comment["id"], "aweme_id": aweme_id, "text": comment["text"], "create_time": comment["published"],
            "digg_count": 1, "reply_comment_total": 0, "reply_id": "0", "ip_label": "广东",
            "user": douyin_author(comment["author_id"], comment["author_name"])}


def kuaishou_feed(post: Post) -> dict[str, Any]:
    return {
        "type": 1,
        "author": {"id": post.author_id, "name": post.author_name, "headerUrl": "https://p1.a.yximgs.com/h.jpg"},
        "photo": {"id": post.id, "caption": post.text, "originCaption": post.text, "timestamp": post.published * 1000,
                  "likeCount": "1.1万", "realLikeCount": 11021, "viewCount": "23万", "commentCount": 31,
                  "coverUrl": "https://p2.a.yximgs.com/cover.jpg", "photoUrl": "https://v1.kwaicdn.com/demo.mp4",
                  "duration": 15000},
        "tags": [{"type": 1, "name": k} for k in post.keywords],
    }  # fmt: skip


def kuaishou_comment(comment: dict[str, Any]) -> dict[str, Any]:
    return {"comment_id": int(comment["id"]), "content": comment["text"], "timestamp": comment["published"] * 1000,
            "author_id": comment["author_id"], "author_name": comment["author_name"], "headurl": "", "likedCount": "3",
            "hasSubComments": False, "subCommentCount": 0}


def xhs_user(user_id: str, name: str) -> dict[str, Any]:
    return {"user_id": user_id, "nickname": name, "avatar": "https://sns-avatar-qc.xhscdn.com/avatar/demo.jpg"}


def xhs_search_item(post: Post) -> dict[str, Any]:
    title, _ = title_and_body(post)
    return {
        "id": post.id, "model_type": "note", "xsec_token": f"AB{post.id[-6:]}token=",
        "note_card": {
            "type": "normal", "display_title": title, "user": xhs_user(post.author_id, post.author_name),
            "interact_info": {"liked_count": "1.2万", "collected_count": "532", "comment_count": "88", "shared_count": "10"},
            "cover": {"url_default": "https://sns-webpic-qc.xhscdn.com/cover.jpg", "width": 1080, "height": 1440},
            "corner_tag_info": [{"type": "publish_time", "text": "3天前"}],
        },
    }  # fmt: skip


def xhs_note_card(post: Post) -> dict[str, Any]:
    title, body = title_and_body(post)
    return {
        "note_id": post.id, "type": "normal", "title": title, "desc": body, "time": post.published * 1000,
        "last_update_time": post.published * 1000, "ip_location": "广东", "user": xhs_user(post.author_id, post.author_name),
        "interact_info": {"liked_count": "1.2万", "collected_count": "532", "comment_count": "88", "share_count": "10"},
        "image_list": [{"url_default": "https://sns-webpic-qc.xhscdn.com/1.jpg"}],
        "tag_list": [{"type": "topic", "name": k} for k in post.keywords],
    }  # fmt: skip


def xhs_note_page(post: Post) -> str:
    """An ``/explore/{id}`` page: the note in ``window.__INITIAL_STATE__`` (camelCase, with ``undefined``)."""
    card = xhs_note_card(post)
    note = {"noteId": card["note_id"], "type": "normal", "title": card["title"], "desc": card["desc"],
            "time": card["time"], "user": {"userId": post.author_id, "nickname": post.author_name},
            "interactInfo": {"likedCount": "1.2万"}, "tagList": card["tag_list"]}
    state = json.dumps({"note": {"noteDetailMap": {post.id: {"note": note, "comments": {}}},
                                 "currentNoteId": post.id}}, ensure_ascii=False).replace("<", "\\u003c")
    state = state.replace('"comments": {}', '"comments": undefined')
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(card['title'])} - 小红书</title></head>"
            f"<body><div id='app'></div><script>window.__INITIAL_STATE__={state}</script></body></html>")


def xhs_comment(comment: dict[str, Any], note_id: str) -> dict[str, Any]:
    return {"id": comment["id"], "note_id": note_id, "content": comment["text"], "create_time": comment["published"] * 1000,
            "like_count": "3", "ip_location": "广东", "user_info": {"user_id": comment["author_id"],
            "nickname": comment["author_name"], "image": ""}, "sub_comment_count": "0", "sub_comments": [],
            "sub_comment_has_more": False}


def tieba_thread(post: Post) -> dict[str, Any]:
    title, body = title_and_body(post)
    return {"tid": int(post.id), "title": escape(title), "content": escape(body), "forum_name": "信用卡",
            "forum_id": 1234, "time": post.published, "post_num": 12,
            "user": {"id": int(post.author_id), "portrait": f"tb.1.{post.author_id}?t=1700000000",
                     "show_nickname": post.author_name, "user_name": post.author_name}}


def tieba_floor(comment: dict[str, Any], floor: int) -> dict[str, Any]:
    return {"id": int(comment["id"]), "floor": floor, "author_id": int(comment["author_id"]), "time": comment["published"],
            "content": [{"type": 0, "text": comment["text"]}], "sub_post_number": 0}


def zhihu_author(user_id: str, name: str) -> dict[str, Any]:
    return {"id": f"u{user_id}", "url_token": f"token-{user_id}", "name": name,
            "avatar_url": "https://picx.zhimg.com/v2-demo.jpg"}


def zhihu_answer(post: Post, keyword: str = "") -> dict[str, Any]:
    title, body = title_and_body(post)
    answer = {"type": "answer", "id": post.id, "question": {"id": f"q{post.id}", "name": title.replace(keyword, f"<em>{keyword}</em>") if keyword else title},
              "excerpt": body[:30], "created_time": post.published, "updated_time": post.published,
              "voteup_count": 1234, "comment_count": 5, "author": zhihu_author(post.author_id, post.author_name)}
    if not post.long:  # long answers come with only an excerpt; the page has the content
        answer["content"] = "<p>" + escape(body).replace("\n", "</p><p>") + "</p>"
    return answer


def zhihu_answer_page(post: Post) -> str:
    _, body = title_and_body(post)
    data = {"initialState": {"entities": {"answers": {post.id: {"id": post.id, "content": f"<p>{escape(body)}</p>"}},
                                          "users": {}}}}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (f"<!doctype html><html><head><meta charset='utf-8'></head><body><div id='root'></div>"
            f'<script id="js-initialData" type="text/json">{payload}</script></body></html>')


def zhihu_comment(comment: dict[str, Any]) -> dict[str, Any]:
    return {"id": comment["id"], "content": f"<p>{escape(comment['text'])}</p>", "created_time": comment["published"],
            "like_count": 2, "dislike_count": 0, "child_comment_count": 0, "reply_comment_id": "0",
            "comment_tag": [{"type": "ip_info", "text": "IP 属地广东"}],
            "author": zhihu_author(comment["author_id"], comment["author_name"])}
