"""Data output for every grayscan command: stdout only, in the form the reader needs.

A rich table when stdout is a terminal; TSV when it is a pipe or file (one line per row, so
``grep``, ``cut`` and ``sort`` work); or what ``--format`` asks for: ``table``, ``tsv``, ``csv``,
``jsonl`` (JSON Lines, one object per row) or ``json`` (one array). Messages and progress go to
stderr (``options.console``), never here.

TSV cells escape backslash, tab, newline and carriage return as ``\\\\``, ``\\t``, ``\\n``, ``\\r``; TSV and CSV
cells that a spreadsheet would run as a formula are neutralized (``takedown.csvsafe``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from takedown import csvsafe

from .exitcodes import Exit

FORMATS = ("table", "tsv", "csv", "jsonl", "json")

#: Tables for people, on stdout (their messages stay on stderr).
stdout_console = Console(highlight=False)


def format_option(func: Callable) -> Callable:
    """``--format`` (default: table on a terminal, TSV otherwise) and ``--json`` (same as --format jsonl)."""
    func = click.option("--json", "as_json", is_flag=True, help="Same as --format jsonl.")(func)
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="Output: table (default on a terminal), tsv (default when piped), csv, jsonl, json.")(func)


def resolve_format(fmt: str | None, as_json: bool = False) -> str:
    """The output form asked for, or the default for where stdout goes."""
    if as_json:
        if fmt not in (None, "jsonl"):
            raise click.UsageError(f"--json and --format {fmt} disagree; give one")
        return "jsonl"
    return fmt or ("table" if stdout_console.is_terminal else "tsv")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def tsv_cell(value: Any) -> str:
    """One TSV cell: text, spreadsheet-safe, on one line."""
    text = csvsafe.neutralize(_text(value))
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, **kwargs)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    columns: Sequence[str],
    *,
    table: Callable[[], RenderableType] | None = None,
    title: str | None = None,
) -> None:
    """Write ``rows`` to stdout as ``fmt`` (see ``resolve_format``).

    TSV and CSV carry ``columns`` under a header line; JSON forms carry whole rows. A table is
    ``table()`` when given (a command's own layout, one table or several), else ``columns`` under ``title``.
    """
    try:
        _write(rows, fmt, columns, table, title)
    except BrokenPipeError:
        # The reader stopped early (`| head`): what it read is what it wanted. Python would complain
        # when flushing stdout at exit, so point stdout at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(Exit.OK) from None


def _write(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str],
           table: Callable[[], RenderableType] | None, title: str | None) -> None:
    out = sys.stdout
    if fmt == "table":
        if table is None:
            plain = Table(title=title, title_justify="left")
            for column in columns:
                plain.add_column(column, overflow="fold")
            for row in rows:
                plain.add_row(*(Text(_text(row.get(c))) for c in columns))  # data, never markup
            stdout_console.print(plain)
        else:
            stdout_console.print(table())
    elif fmt == "tsv":
        out.write("\t".join(columns) + "\n")
        out.writelines("\t".join(tsv_cell(row.get(c)) for c in columns) + "\n" for row in rows)
    elif fmt == "csv":
        writer = csvsafe.Writer(out)  # RFC 4180 line ends: a value holding \r or \n is then quoted
        writer.writerow(columns)
        writer.writerows([_text(row.get(c)) for c in columns] for row in rows)
    elif fmt == "jsonl":
        out.writelines(_json(dict(row)) + "\n" for row in rows)
    elif fmt == "json":
        out.write(_json([dict(row) for row in rows], indent=1) + "\n")
    else:
        raise ValueError(f"unknown output format {fmt!r}; formats: {', '.join(FORMATS)}")
    out.flush()
