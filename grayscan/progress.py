"""A live progress display for crawls, fed by Scrapy's signals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .options import console


@contextmanager
def crawl_progress(platforms: list[str]) -> Iterator[tuple]:
    """Yields (on_item, on_response) callbacks that update one progress line per platform.

    It counts the items the spiders yield: a post that two keywords find counts twice, so the
    count can exceed the distinct posts stored (the commands say both when the crawl ends)."""
    items: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[pages]} pages · {task.fields[items]} items"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks = {p: progress.add_task(f"crawl {p}", total=None, pages=0, items=0) for p in platforms}

        def on_item(platform: str) -> None:
            items[platform] += 1
            progress.update(tasks[platform], items=items[platform])

        def on_response(platform: str) -> None:
            pages[platform] += 1
            progress.update(tasks[platform], pages=pages[platform])

        yield on_item, on_response
        for platform, task in tasks.items():
            progress.update(task, total=1, completed=1)
