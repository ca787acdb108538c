"""Writing safely: file names from case ids, paths kept inside the output folder, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

from .errors import AuditError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10)),
}
MAX_NAME = 100
#: a file in a folder that marks it as msp-audit output, never read as input; it also lists
#: the case workbooks the last run wrote there
OUTPUT_MARKER = ".msp-audit-output"


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def safe_name(case_id: str, used: set[str] | None = None) -> str:
    """A file-name stem from a case id: only ``A-Za-z0-9._-``, no leading dot, no Windows
    reserved name, bounded length, and unique (case-insensitively) among ``used``."""
    name = _UNSAFE.sub("_", case_id).lstrip(".") or "case"
    name = re.sub(r"\.{2,}", "_", name)
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(case_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        name = f"{name[: MAX_NAME - 11]}-{digest}"
    name = name.rstrip(". ") or "case"
    if used is not None:
        base, n = name, 2
        while name.casefold() in used:
            name = f"{base}-{n}"
            n += 1
        used.add(name.casefold())
    return name


def inside(out_dir: Path, *parts: str) -> Path:
    """A path under ``out_dir``, refused if it would resolve outside it."""
    root = out_dir.resolve()
    path = root.joinpath(*parts).resolve()
    if path != root and root not in path.parents:
        raise AuditError(f"refusing to write outside the output folder: {path}")
    return path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename, so a crash never
    leaves a half-written file at the final path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; outputs get the user's usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write(path, write)
