"""``grayscan lexicon``: scan texts for guideline terms and contacts; validate lexicon files."""

from __future__ import annotations

from collections import Counter

import click

from .exitcodes import Exit
from .options import console, fail, lexicon_option
from .records import FORMATS, transform_records


@click.group()
def lexicon() -> None:
    """Scan texts with the evasion-resistant lexicon; check lexicon files."""


@lexicon.command("scan")
@click.option("--input", "-i", "input_path", default="-", show_default=True, help="Input file, - for stdin.")
@click.option("--output", "-o", "output_path", default="-", show_default=True, help="Output JSON Lines, - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Input format; auto looks at the file name, then the first line.")
@lexicon_option
def scan(input_path: str, output_path: str, fmt: str, lexicon_files: tuple[str, ...]) -> None:
    """Write the lexicon matches and contacts of each record (same conventions as classify).

    Each output object carries the record's id, line and pass-through keys, then "matches"
    (term, category, family, view, start, end, text) and "contacts" (type, value, start, end,
    raw); offsets index the original text. A malformed record yields {"line": N, "error": ...}
    and the run goes on; the exit code is 1 when any record failed.

    \b
    Example:
      echo '征 信 修 复，加V：zxxf2026' | grayscan lexicon scan
    """
    from lexicon import Lexicon, LexiconError

    try:
        lex = Lexicon.load(list(lexicon_files))
    except LexiconError as exc:
        fail(str(exc))
    transform_records(input_path, output_path, fmt, lambda texts: [lex.scan(t).to_dict() for t in texts],
                      verb="scanned")


@lexicon.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate lexicon FILES together with the bundled terms.

    Reports every problem with its file, line and entry: unknown keys, missing or wrong-typed
    fields, unknown categories, duplicates and forms claimed by two categories (compared after
    normalization, so 停息掛帳 collides with 停息挂账). Exit code 1 when there is any problem.
    """
    from lexicon import CATEGORIES, LexiconError, load_terms

    try:
        terms = load_terms(list(files))
    except LexiconError as exc:
        console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise SystemExit(Exit.FAILED_RECORDS) from None
    counts = Counter(t.category for t in terms)
    console.print(f"ok: {len(terms)} terms ({len(files)} extra file(s))")
    console.print("  " + ", ".join(f"{c} {counts[c]}" for c in CATEGORIES), soft_wrap=True)


COMMANDS = [lexicon]
