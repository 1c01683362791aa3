"""Serve the replica with flaky answers, for trying the crawler by hand (docs/crawler.md):

    python -m crawler.replica --port 8765 --truncate-every 3
    python -m crawler.replica --port 8765 --fault 停息挂账=broken:2 --no-page-signers
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .server import Post, ReplicaServer, sample_posts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.replica", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--posts", type=Path, help="JSON Lines of replica posts (default: sample posts)")
    parser.add_argument("--per-platform", type=int, default=43, help="sample posts per platform")
    parser.add_argument("--keyword", default="停息挂账", help="what the sample posts match")
    parser.add_argument("--truncate-every", type=int, default=0, help="cut every Nth API answer in half")
    parser.add_argument("--throttle-every", type=int, default=0, help="rate-limit every Nth API request")
    parser.add_argument("--drop-every", type=int, default=0, help="drop every Nth connection halfway through the body")
    parser.add_argument("--fault", action="append", default=[], metavar="KEYWORD=KIND",
                        help="throttle[:N] | captcha | malformed | broken:PAGE for searches of KEYWORD")
    parser.add_argument("--no-page-signers", action="store_true", help="pages keep their signing functions private")
    args = parser.parse_args()
    if args.posts:
        posts = [Post.from_dict(json.loads(line)) for line in args.posts.read_text(encoding="utf-8").splitlines() if line]
    else:
        posts = sample_posts(args.per_platform, args.keyword)
    faults = dict(f.split("=", 1) for f in args.fault)
    with ReplicaServer(posts, port=args.port, faults=faults, truncate_every=args.truncate_every,
                       throttle_every=args.throttle_every, drop_every=args.drop_every, page_signers=not args.no_page_signers) as server:
        print(f"replica on {server.base_url} ({len(posts)} posts); Ctrl-C stops it", flush=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
