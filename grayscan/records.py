"""Reading and writing the record streams of ``classify`` and ``lexicon scan``.

Input is JSON Lines (objects with ``text`` and optional ``id``), plain text (one post per line)
or CSV with a ``text`` column; ``-`` is stdin/stdout. A record that cannot be read becomes an
error object carrying its line number, so one bad line never stops a run.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FORMATS = ("auto", "jsonl", "text", "csv")
#: The "id" of a JSON line too broken to parse, so its error object still names the record.
_ID_IN_BROKEN_JSON = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')


@dataclass
class Record:
    """One input record: its 1-based line number and either the parsed object or an error."""

    line: int
    data: dict[str, Any] | None = None
    error: str | None = None


def open_input(path: str) -> IO[str]:
    """Open ``path`` (``-`` = stdin) as text; UTF-8 with a BOM tolerated, undecodable bytes replaced."""
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace")
    return open(Path(path), encoding="utf-8-sig", errors="replace", newline="")


def open_output(path: str) -> IO[str]:
    """Open ``path`` (``-`` = stdout) for UTF-8 writing."""
    if path == "-":
        return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", write_through=True)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open(Path(path), "w", encoding="utf-8", newline="\n")


def detect_format(path: str, first_line: str) -> str:
    """Guess the format from the file name, else from the first non-empty line."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".txt":
        return "text"
    stripped = first_line.strip()
    if stripped.startswith("{"):
        return "jsonl"
    if "text" in [c.strip().strip('"').lower() for c in next(csv.reader([stripped]), [])] and "," in stripped:
        return "csv"
    return "text"


def read_records(stream: IO[str], fmt: str = "auto", path: str = "-") -> Iterator[Record]:
    """Yield every record of ``stream`` in order, errors included."""
    lines = iter(stream)
    buffered: list[str] = []
    first = ""
    for line in lines:
        buffered.append(line)
        if line.strip():
            first = line
            break
    if fmt == "auto":
        fmt = detect_format(path, first)
    if fmt not in FORMATS[1:]:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")

    def all_lines() -> Iterator[str]:
        yield from buffered
        yield from lines

    if fmt == "csv":
        yield from _read_csv(all_lines())
        return
    for number, line in enumerate(all_lines(), 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if fmt == "text":
            yield Record(number, {"text": line})
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            where = "column" if exc.msg.endswith(" at") else "at column"  # "Unterminated string starting at"
            yield Record(number, _id_of_broken(line), f"malformed JSON: {exc.msg} {where} {exc.colno}")
            continue
        if not isinstance(data, dict):
            yield Record(number, error=f"expected a JSON object, got {type(data).__name__}")
        elif not isinstance(data.get("text"), str):
            yield Record(number, {"id": data.get("id")}, "missing 'text' (a string)")
        else:
            yield Record(number, data)


def _id_of_broken(line: str) -> dict[str, Any] | None:
    """``{"id": ...}`` when a line that is not valid JSON still shows its record's id."""
    found = _ID_IN_BROKEN_JSON.search(line)
    if not found:
        return None
    try:
        return {"id": json.loads(found[1])}
    except json.JSONDecodeError:
        return None


def _read_csv(lines: Iterator[str]) -> Iterator[Record]:
    reader = csv.DictReader(lines)
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "text" not in fields:
        yield Record(1, error=f"CSV has no 'text' column (columns: {', '.join(reader.fieldnames or [])})")
        return
    reader.fieldnames = fields
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                yield Record(line, error="CSV row has more fields than the header")
                continue
            if row.get("text") is None:
                yield Record(line, error="CSV row has no value for 'text'")
                continue
            yield Record(line, {k: v for k, v in row.items() if v is not None})
    except csv.Error as exc:
        yield Record(reader.line_num, error=f"malformed CSV: {exc}")


def result_object(record: Record, result: dict[str, Any]) -> dict[str, Any]:
    """The output object of a record: its id, line and pass-through keys, then ``result``."""
    data = record.data or {}
    out: dict[str, Any] = {"id": data.get("id"), "line": record.line}
    out.update({k: v for k, v in data.items() if k not in ("id", "text")})
    out.update(result)
    return out


def error_object(record: Record) -> dict[str, Any]:
    """The output object of a record that could not be read: its id (when it shows one), line and error."""
    return {"id": (record.data or {}).get("id"), "line": record.line, "error": record.error}


def write_json_line(stream: IO[str], obj: dict[str, Any]) -> None:
    stream.write(json.dumps(obj, ensure_ascii=False) + "\n")


def batched(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of at most ``size``."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def transform_records(
    input_path: str,
    output_path: str,
    fmt: str,
    results: Callable[[list[str]], list[dict[str, Any]]],
    *,
    verb: str,
    batch_size: int = 64,
) -> None:
    """Stream the records of ``input_path`` to ``output_path``: per record, in order, its id, line and
    pass-through keys plus ``results(texts)[i]``, or an error object. Exits 1 when any record failed.

    ``results`` takes a batch of texts so a model can run vectorized. Writing to a file shows a
    live count on stderr.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .exitcodes import Exit
    from .options import console, fail

    errors = total = 0
    try:
        source = open_input(input_path)
    except OSError as exc:
        fail(f"cannot read {input_path}: {exc.strerror}")
    progress = Progress(SpinnerColumn(), TextColumn(f"{verb} {{task.completed}} records"), TimeElapsedColumn(),
                        console=console, transient=True, disable=output_path == "-")
    with source, open_output(output_path) as sink, progress:
        task = progress.add_task(verb, total=None)
        try:
            for batch in batched(read_records(source, fmt, input_path), batch_size):
                good = [r for r in batch if not r.error]
                by_line = dict(zip((r.line for r in good), results([r.data["text"] for r in good]), strict=True))
                for record in batch:
                    total += 1
                    if record.error:
                        errors += 1
                        write_json_line(sink, error_object(record))
                    else:
                        write_json_line(sink, result_object(record, by_line[record.line]))
                progress.update(task, completed=total)
        except ValueError as exc:
            fail(str(exc))
    if output_path != "-":
        console.print(f"{verb} {total - errors} records into {output_path}")
    if errors:
        console.print(f"[red]{errors} of {total} records failed[/red] (their error objects, with line numbers, "
                      "are in the output)")
        raise SystemExit(Exit.FAILED_RECORDS)
