"""Generated out-of-domain lines: what comment sections and crawls hold besides posts about money.

Emoji runs, one-to-six-character chatter, bare numbers, URLs, @mentions with a phone number,
English, other scripts and random bytes. They are the ``none`` negatives the models train on and
the seeded set the content-gate test pushes through the classify path; none of them is a post style.
"""

from __future__ import annotations

import random
import string

EMOJI = "😂🤣😭😍👍🙏🔥💯🎉❤💔😅🤔😎🙄👏🌹🐶🍉✨😱😡🥺💪🤝👀🌚🐂🍺🎂"
#: Everyday reactions and filler, never about money.
CHATTER = ("哈哈", "哈哈哈哈", "666", "6666", "好的", "沙发", "顶", "顶一下", "来了", "牛", "牛啊", "真的假的", "学到了",
           "打卡", "前排", "支持", "蹲", "蹲一个", "笑死", "绝了", "谢谢", "收到", "已关注", "冲", "太好看了", "赞",
           "ok", "嗯嗯", "啊这", "妙啊", "好家伙", "厉害", "可以", "在吗", "早", "晚安", "路过", "hhh", "草", "上车",
           "求更新", "同问", "加油", "好听", "好看", "第一", "火钳刘明", "懂了", "有道理", "不错", "吃瓜", "插眼",
           "mark", "yyds", "awsl", "哈？", "啊啊啊", "泪目", "破防了", "好可爱", "真香", "下次一定", "三连了")
#: Common characters for made-up chatter (no money words among them).
COMMON = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动"
ENGLISH = ("hello", "nice", "video", "love", "this", "so", "cool", "thanks", "for", "sharing", "great", "song", "lol",
           "omg", "first", "who", "is", "watching", "in", "the", "best", "ever", "what", "a", "day", "good", "morning",
           "see", "you", "again", "wow", "amazing", "cute", "cat", "dog", "haha", "me", "too", "same", "here")
OTHER_SCRIPTS = ("ありがとう", "かわいい", "すごい", "사랑해", "대박", "감사합니다", "спасибо", "привет", "gracias", "merci")
NAMES = ("张三", "李四", "小王", "阿杰", "momo", "小红薯123", "用户8872", "奶茶不加糖", "Kevin", "大橘")
KINDS = ("emoji", "chatter", "number", "url", "mention_phone", "english", "bytes")


def junk_line(rng: random.Random, kind: str | None = None) -> str:
    """One out-of-domain line of ``kind`` (any kind when None)."""
    kind = kind or rng.choice(KINDS)
    if kind == "emoji":
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 8))) + rng.choice(("", "", "!", "～"))
    if kind == "chatter":
        if rng.random() < 0.6:
            return rng.choice(CHATTER)[:6]
        return "".join(rng.choice(COMMON) for _ in range(rng.randint(1, 6)))
    if kind == "number":
        digits = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 15)))
        return rng.choice((digits, digits[:3] + "." + digits[3:], " ".join((digits, digits[::-1])), digits + "+1"))
    if kind == "url":
        host = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
        path = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(0, 12)))
        return f"{rng.choice(('https://', 'http://', 'www.', ''))}{host}.{rng.choice(('com', 'cn', 'net', 'io'))}/{path}"
    if kind == "mention_phone":
        phone = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
        return f"@{rng.choice(NAMES)} {phone}" + rng.choice(("", " 回我", " 👍", ""))
    if kind == "english":
        words = rng.choice((ENGLISH, ENGLISH, OTHER_SCRIPTS))
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 9)))
    if kind == "bytes":
        raw = rng.randbytes(rng.randint(4, 120)).decode("utf-8", errors="replace")
        return " ".join(raw.split()) or "\ufffd"
    raise ValueError(f"unknown junk kind {kind!r}")


def junk_lines(count: int, seed: int) -> list[str]:
    """``count`` lines, the kinds in turn, deterministic for ``seed``."""
    rng = random.Random(seed)
    return [junk_line(rng, KINDS[i % len(KINDS)]) for i in range(count)]
