"""Readers turn one case file into ``Case`` objects; they never score.

The registry maps a suffix to a reader module, imported only when a file of
that kind is read, so that ``msp-audit --help`` and a JSON-only run stay fast.
A reader module exposes ``read(data: bytes, template, source) -> ReadResult``
(an Office reader also takes ``archive``, the checked parts from ``safety.check``)
and raises ``ReadError`` (one line, no traceback) for a file it cannot read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..model import Case, Issue, Template

#: suffix -> module under audit_cli.readers
READERS: dict[str, str] = {
    ".json": "json_reader",
    ".xlsx": "excel_reader",
    ".xlsm": "excel_reader",  # read like .xlsx; macros are never run
    ".docx": "word_reader",
}

#: suffixes we recognise but cannot read, with the note an auditor needs
UNSUPPORTED_NOTES: dict[str, str] = {
    ".xls": "legacy Excel 97-2003 workbook: open it in Excel and save it as .xlsx",
    ".doc": "legacy Word 97-2003 document: open it in Word and save it as .docx",
}


@dataclass
class ReadResult:
    cases: list[Case] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # about the file, not one case


def supported_suffixes() -> list[str]:
    return sorted(READERS)


def read_bytes(data: bytes, suffix: str, template: Template, source: str) -> ReadResult:
    """Read one file's bytes with the reader for its suffix, after the checks that keep
    hostile bytes (zip bombs, XML entities, a file that is not what its suffix says) from it."""
    from .safety import check

    archive = check(data, suffix)
    module = importlib.import_module(f"{__name__}.{READERS[suffix.lower()]}")
    # An Office reader is handed the checked zip: each part is inflated and checked once, when first read.
    result: ReadResult = (module.read(data, template, source) if archive is None
                          else module.read(data, template, source, archive=archive))
    return result
