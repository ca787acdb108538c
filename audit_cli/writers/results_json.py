"""``results.json``: the whole run as data, for other programs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..outputs import atomic_write_bytes, inside

RESULTS_NAME = "results.json"


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results(doc: dict[str, Any], out_dir: Path) -> Path:
    path = inside(out_dir, RESULTS_NAME)
    atomic_write_bytes(path, dumps(doc).encode("utf-8"))
    return path
