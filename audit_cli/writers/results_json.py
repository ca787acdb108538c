"""``results.json``: the whole run as data, for other programs.

Written as a stream, a case at a time, so a run of thousands of cases never holds
the whole document as one string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Iterator

from ..outputs import atomic_write, inside
from ..store import CaseStore, case_line

RESULTS_NAME = "results.json"


def _json(value: Any, indent: int) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return text.replace("\n", "\n" + " " * indent)


def chunks(doc: dict[str, Any]) -> Iterator[str]:
    """The document as JSON text, indented by 2, except that each case is one compact line
    (thousands of cases indented would be slow to write and no easier to read); the
    cases are copied from the run's ``CaseStore`` a line at a time."""
    yield "{"
    for n, (key, value) in enumerate(doc.items()):
        yield ("," if n else "") + f"\n  {json.dumps(key)}: "
        if key == "cases" and isinstance(value, (CaseStore, list)):
            lines = value.lines() if isinstance(value, CaseStore) else map(case_line, value)
            yield "["
            empty = True
            for k, line in enumerate(lines):
                empty = False
                yield ("," if k else "") + "\n    " + line
            yield "]" if empty else "\n  ]"
        else:
            yield _json(value, 2)
    yield "\n}\n"


def dump(doc: dict[str, Any], fh: IO[str]) -> None:
    for part in chunks(doc):
        fh.write(part)


def dumps(doc: dict[str, Any]) -> str:
    return "".join(chunks(doc))


def write_results(doc: dict[str, Any], out_dir: Path) -> Path:
    path = inside(out_dir, RESULTS_NAME)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            dump(doc, fh)

    atomic_write(path, write)
    return path
