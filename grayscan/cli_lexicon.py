"""``grayscan lexicon``: scan texts for guideline terms and contacts; validate lexicon files."""

from __future__ import annotations

import click

from .options import console, fail, lexicon_option
from .records import FORMATS, error_object, open_input, open_output, read_records, result_object, write_json_line


@click.group()
def lexicon() -> None:
    """Scan texts with the evasion-resistant lexicon; check lexicon files."""


@lexicon.command("scan")
@click.option("--input", "-i", "input_path", default="-", show_default=True, help="Input file, - for stdin.")
@click.option("--output", "-o", "output_path", default="-", show_default=True, help="Output JSON Lines, - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@lexicon_option
def scan(input_path: str, output_path: str, fmt: str, lexicon_files: tuple[str, ...]) -> None:
    """Write the lexicon matches and contacts of each record (same conventions as classify)."""
    from lexicon import Lexicon, LexiconError

    try:
        lex = Lexicon.load(list(lexicon_files))
    except LexiconError as exc:
        fail(str(exc))
    errors = 0
    try:
        source = open_input(input_path)
    except OSError as exc:
        fail(f"cannot read {input_path}: {exc.strerror}")
    with source, open_output(output_path) as sink:
        for record in read_records(source, fmt, input_path):
            if record.error:
                errors += 1
                write_json_line(sink, error_object(record))
                continue
            result = lex.scan(record.data["text"])
            write_json_line(
                sink,
                result_object(
                    record,
                    {"matches": [m.to_dict() for m in result.matches],
                     "contacts": [c.to_dict() for c in result.contacts]},
                ),
            )
    if errors:
        raise SystemExit(1)


@lexicon.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate lexicon FILES together with the bundled terms (duplicates, conflicts, unknown keys)."""
    from lexicon import LexiconError, load_terms

    try:
        terms = load_terms(list(files))
    except LexiconError as exc:
        fail(str(exc), code=1)
    console.print(f"ok: {len(terms)} terms ({len(files)} extra file(s))")


COMMANDS = [lexicon]
