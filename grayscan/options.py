"""Options and output helpers shared by every grayscan command."""

from __future__ import annotations

import os

import click
from rich.console import Console

#: Human-facing output goes to stderr so stdout stays clean for JSON Lines pipes.
console = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay whole: paths can be pasted

db_option = click.option(
    "--db",
    "db_path",
    default=lambda: os.environ.get("GRAYSCAN_DB", "grayscan.db"),
    show_default="grayscan.db or $GRAYSCAN_DB",
    type=click.Path(dir_okay=False),
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


def fail(message: str, code: int = 2) -> None:
    """Print a clear error and exit with ``code``."""
    console.print(f"[red]error:[/red] {message}")
    raise SystemExit(code)
