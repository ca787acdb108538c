"""Where the bundled templates and schemas live, installed or in a source checkout."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``schemas`` or ``audit_templates``: inside the wheel, or beside the package in a checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} is missing from the installation")


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    with open(data_dir("schemas") / f"{name}.schema.json", encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@lru_cache(maxsize=None)
def validator(name: str) -> Any:
    """A compiled validator, built once per process (validating per file with a fresh
    validator costs several times more)."""
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
