"""Options, value types and messages shared by every grayscan command."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import NoReturn

import click
from rich.console import Console

from .exitcodes import Exit

#: Messages and progress go to stderr so stdout carries only data (see ``output``).
console = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay whole: paths can be pasted

#: Where the demo and ``grayscan report`` write report files unless told otherwise.
DEFAULT_OUT_DIR = "grayscan-out"

db_option = click.option(
    "--db",
    "db_path",
    default=lambda: os.environ.get("GRAYSCAN_DB", "grayscan.db"),
    show_default="grayscan.db or $GRAYSCAN_DB",
    type=click.Path(dir_okay=False),
    is_eager=True,  # read before --platform, whose valid values include the platforms stored in it
    help="SQLite database file.",
)

lexicon_option = click.option(
    "--lexicon",
    "lexicon_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Extra lexicon TOML file merged with the bundled terms (repeatable).",
)

model_option = click.option(
    "--model", "model_path", type=click.Path(exists=True, file_okay=False),
    help="Classifier model directory; default: the model bundled with grayscan.")

lexicon_only_option = click.option(
    "--lexicon-only", is_flag=True, help="Classify with the lexicon-only baseline (no model).")


def fail(message: str, code: int = Exit.USAGE) -> NoReturn:
    """Print a clear error and exit with ``code`` (bad usage or missing input unless told otherwise)."""
    console.print(f"[red]error:[/red] {message}")
    raise SystemExit(int(code))


def open_store(db_path: str, *, read_only: bool = False):
    """The existing database at ``db_path``; a missing one is an error (exit 2) and nothing is created.

    Only ``crawl``, ``import`` and ``demo`` create a database.
    """
    from takedown.store import MissingDatabase, StoreError, open_db

    try:
        return open_db(db_path, read_only=read_only, create=False)
    except MissingDatabase as exc:
        fail(f"{exc}; give --db or set GRAYSCAN_DB, or create one with `grayscan crawl`, `grayscan import` "
             "or `grayscan demo`")
    except StoreError as exc:
        fail(str(exc))


class RegistryChoice(click.Choice):
    """A ``click.Choice`` whose values come from a registry, imported only when a value or --help needs them
    (the queue's statuses live next to the lifecycle, whose module takes a while to import)."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._load())

    @choices.setter
    def choices(self, _value) -> None:  # click.Choice.__init__ assigns; the registry stays the source
        pass


def _platforms() -> Sequence[str]:
    from crawler.spiders import PLATFORMS

    return PLATFORMS


def _spiders() -> Sequence[str]:
    from crawler.spiders import SPIDERS

    return tuple(SPIDERS)


def _statuses() -> Sequence[str]:
    from takedown.queue import STATUSES

    return STATUSES


class StoredPlatform(RegistryChoice):
    """A platform to filter stored data by: one grayscan has a spider for, or one already stored in the
    database (``crawl generic`` stores posts under its YAML file's name)."""

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        stored = _stored_platforms((ctx.params.get("db_path") if ctx else None) or "")
        if value in stored:
            return value
        known = ", ".join(dict.fromkeys([*self.choices, *stored]))
        self.fail(f"{value!r} is not a platform; choose from {known}", param, ctx)


def _stored_platforms(db_path: str) -> list[str]:
    """The platforms that have posts in the database at ``db_path`` (none when it is missing)."""
    import sqlite3
    from contextlib import closing

    if not db_path or not os.path.isfile(db_path):
        return []
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            return [row[0] for row in conn.execute("SELECT DISTINCT platform FROM posts ORDER BY platform")]
    except sqlite3.Error:
        return []


#: The platforms to filter stored data by (the spiders' registry, and generic crawls' names in the database).
PLATFORM = StoredPlatform(_platforms)
#: What ``grayscan crawl`` can crawl: the platforms, and ``generic`` (configured by a YAML file).
SPIDER = RegistryChoice(_spiders)
#: The takedown queue's statuses.
STATUS = RegistryChoice(_statuses)


class When(click.ParamType):
    """A point in time for ``--since`` / ``--until`` (``takedown.queue.parse_when``: the web queue's filter
    reads the same forms)."""

    name = "when"

    def convert(self, value, param, ctx) -> str:
        from takedown.queue import parse_when

        try:
            return parse_when(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


WHEN = When()
