"""``grayscan classify``: the classify contract over JSON Lines, plain text or CSV."""

from __future__ import annotations

import click

from .options import console, fail, lexicon_option
from .records import FORMATS, error_object, open_input, open_output, read_records, result_object, write_json_line


@click.command()
@click.option("--input", "-i", "input_path", default="-", show_default=True, help="Input file, - for stdin.")
@click.option("--output", "-o", "output_path", default="-", show_default=True, help="Output JSON Lines, - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Input format; auto looks at the file name, then the first line.")
@lexicon_option
def classify(input_path: str, output_path: str, fmt: str, lexicon_files: tuple[str, ...]) -> None:
    """Tier each post as level1 / level2 abnormal rights defense, or none.

    IN holds JSON Lines objects with "text" and an optional "id" (other keys pass through),
    plain text (one post per line) or CSV with a "text" column. OUT gets one JSON object per
    record, in order: id, line, tier, score (0..1), reasons, matches and contacts (with start/end
    offsets in the original text). A malformed record yields {"line": N, "error": ...} and the
    run goes on; the exit code is 1 when any record failed.

    \b
    Example:
      echo '{"id": 1, "text": "专业征信修复，加V：abc12345"}' | grayscan classify
    """
    from classifier import Classifier
    from lexicon import LexiconError

    try:
        clf = Classifier(lexicon_files=lexicon_files)
    except LexiconError as exc:
        fail(str(exc))
    errors = total = 0
    try:
        source = open_input(input_path)
    except OSError as exc:
        fail(f"cannot read {input_path}: {exc.strerror}")
    with source, open_output(output_path) as sink:
        try:
            records = read_records(source, fmt, input_path)
            for record in records:
                total += 1
                if record.error:
                    errors += 1
                    write_json_line(sink, error_object(record))
                    continue
                detection = clf.classify_one(record.data["text"])
                write_json_line(sink, result_object(record, detection.to_dict()))
        except ValueError as exc:
            fail(str(exc))
    if output_path != "-":
        console.print(f"classified {total - errors} records into {output_path}" + (f", {errors} errors" if errors else ""))
    if errors:
        raise SystemExit(1)


COMMANDS = [classify]
