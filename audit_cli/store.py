"""Where a run keeps its case results: on disk, one JSON line each, so memory stays flat.

A run of thousands of files would otherwise hold every case's full result (every
criterion's status, points and location) in memory until the end. ``CaseStore``
appends each case as it arrives to an anonymous temporary file inside the output
folder (deleted by the system when closed; nothing appears outside ``--out``) and
reads them back, in order, each time a writer iterates. Without an output folder
(library use) it is a plain list.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator


def case_line(case: dict[str, Any]) -> str:
    """A case result as its one line of results.json: compact JSON, never NaN."""
    return json.dumps(case, ensure_ascii=False, allow_nan=False)


class CaseStore:
    def __init__(self, folder: Path | None = None) -> None:
        self._list: list[dict[str, Any]] | None = None
        self._file: IO[bytes] | None = None
        if folder is not None and folder.is_dir():
            self._file = tempfile.TemporaryFile(dir=folder, prefix=".msp-audit-cases-")
        else:
            self._list = []
        self._count = 0

    def append(self, case: dict[str, Any]) -> None:
        """Keep one case."""
        if self._file is None:
            assert self._list is not None
            self._count += 1
            self._list.append(case)
        else:
            self.append_line(case_line(case).encode("utf-8"))

    def append_line(self, line: bytes) -> None:
        """Keep one case given as its compact JSON line, stored as it is (decoded only without a folder)."""
        if self._file is None:
            self.append(json.loads(line))
            return
        self._count += 1
        self._file.seek(0, 2)
        self._file.write(line + b"\n")

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._file is None:
            assert self._list is not None
            yield from self._list
            return
        for line in self._raw_lines():
            yield json.loads(line)

    def lines(self) -> Iterator[str]:
        """Each case as one line of compact JSON, exactly as stored: results.json copies them
        without decoding and encoding every case again."""
        if self._file is None:
            assert self._list is not None
            yield from map(case_line, self._list)
            return
        for line in self._raw_lines():
            yield line.decode("utf-8")

    def _raw_lines(self, block: int = 1 << 20) -> Iterator[bytes]:
        """The stored lines, read with ``os.pread`` at a position of this iteration's own, so
        two iterations at once (or an append in between) never disturb each other."""
        assert self._file is not None
        self._file.flush()
        fd, offset, rest = self._file.fileno(), 0, b""
        while True:
            chunk = os.pread(fd, block, offset)
            if not chunk:
                break
            offset += len(chunk)
            *lines, rest = (rest + chunk).split(b"\n")
            yield from lines
        if rest:
            yield rest

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (CaseStore, list)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"CaseStore({self._count} cases)"

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
