"""One exit-code table for the whole grayscan CLI (documented in `grayscan --help` and the README)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """What a grayscan process's exit status means, for every command."""

    OK = 0
    FAILED_RECORDS = 1
    USAGE = 2
    STOPPED = 3
    LOSSES = 4


#: One line per code, as `grayscan --help` and the README print them.
MEANINGS = {
    Exit.OK: "everything asked for was done",
    Exit.FAILED_RECORDS: "the run went on, but some records or items failed (each one is reported)",
    Exit.USAGE: "bad usage or missing input, or the job could not start (no route, no browser, no database)",
    Exit.STOPPED: "stopped by the platform (captcha, login wall) or by the user (Ctrl-C): resume later",
    Exit.LOSSES: "finished with losses (pages given up): the message says how to get them back",
}
