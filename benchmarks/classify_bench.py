"""Classifier throughput and peak memory on 2 cores: lexicon-only path vs model inference vs whole classify.

The model paths include the n-gram model and its calibrated mix when the model directory has them.
Each path runs in its own fresh process (so its peak RSS is its own) over the same posts: texts
from the bundled test split, joined to about --chars characters each. Prints posts/s, the ratio
to the lexicon-only path measured in the same run, and peak memory.

    python benchmarks/classify_bench.py            # 1000 posts of ~200 characters
    python benchmarks/classify_bench.py --posts 2000 --chars 100
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

PATHS = {
    "lexicon-only classify": "lexicon",
    "n-gram model alone": "ngram",
    "model inference fp32": "model-fp32",
    "model inference int8": "model-int8",
    "whole classify (gate + int8 ensemble + lexicon + policy)": "classify",
}


def make_posts(count: int, chars: int) -> list[str]:
    """``count`` posts of about ``chars`` characters, built from the bundled test split."""
    from classifier.corpus import read_split

    texts = [r["text"] for r in read_split("test")]
    posts, i = [], 0
    while len(posts) < count:
        post = ""
        while len(post) < chars:
            post += texts[i % len(texts)]
            i += 1
        posts.append(post[:chars])
    return posts


def run_path(path: str, posts: list[str], threads: int, batch: int, model_dir: str | None, queue) -> None:
    """Time one path in this (fresh) process; put (seconds, peak RSS MB) on ``queue``."""
    from classifier import DEFAULT_MODEL_DIR, Classifier
    from classifier.model import TextModel, set_threads
    from classifier.ngram import NgramModel

    set_threads(threads)
    if path == "lexicon":
        clf = Classifier(model=None)
        run = clf.classify
    elif path == "ngram":
        ngram = NgramModel.load(model_dir or DEFAULT_MODEL_DIR)
        run = ngram.logits
    elif path.startswith("model"):
        model = TextModel.load(model_dir, quantize=path == "model-int8")
        run = lambda texts: model.probabilities(texts, batch_size=batch)  # noqa: E731
    else:
        clf = Classifier(model=TextModel.load(model_dir), batch_size=batch)
        run = clf.classify
    run(posts[:batch])  # warm up: lazy imports, jieba/opencc tables, first allocations
    started = time.perf_counter()
    for start in range(0, len(posts), 256):
        run(posts[start:start + 256])
    seconds = time.perf_counter() - started
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    args = parser.parse_args()
    posts = make_posts(args.posts, args.chars)
    ctx = multiprocessing.get_context("spawn")
    results = {}
    for label, path in PATHS.items():
        queue = ctx.Queue()
        worker = ctx.Process(target=run_path, args=(path, posts, args.threads, args.batch, args.model, queue))
        worker.start()
        results[label] = queue.get()
        worker.join()
    base = args.posts / results["lexicon-only classify"][0]
    print(f"{args.posts} posts of {args.chars} characters, {args.threads} threads, batch {args.batch}")
    print(f"{'path':45} {'posts/s':>9} {'vs lexicon':>11} {'peak RSS MB':>12}")
    for label, (seconds, rss) in results.items():
        rate = args.posts / seconds
        print(f"{label:45} {rate:9.1f} {rate / base:10.2f}x {rss:12.0f}")


if __name__ == "__main__":
    main()
