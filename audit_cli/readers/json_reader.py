"""JSON case files: one case ``{"case": {...}, "answers": {...}}`` or a register ``{"cases": [...]}``."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from ..errors import ReadError
from ..model import Case, Issue, Template
from ..resources import validator
from ..values import is_blank
from . import ReadResult
from .common import CaseBuilder


def _loc(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def read(data: bytes, template: Template, source: str) -> ReadResult:
    doc = parse_json(data)
    if not isinstance(doc, dict):
        raise ReadError(f"the top level is a {type(doc).__name__}, not an object with \"case\"/\"answers\" or \"cases\"")
    result = ReadResult()
    errors = sorted(validator("case").iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    bad_paths: set[tuple[Any, ...]] = set()
    for err in errors:
        path = list(err.absolute_path)
        # A register entry that fails the schema is reported and skipped; a broken single case rejects the file.
        if "cases" in doc and len(path) >= 2 and path[0] == "cases":
            bad_paths.add(tuple(path[:2]))
            result.issues.append(_schema_issue(err, path))
        else:
            raise ReadError(f"{_loc(path)}: {err.message}")
    declared = doc.get("template")
    if isinstance(declared, str) and declared != template.id:
        result.issues.append(Issue("warning", "template-mismatch",
                                    f"the file names template {declared!r}; it is scored against {template.id!r}", "template"))
    if "cases" in doc:
        for i, entry in enumerate(doc["cases"]):
            if ("cases", i) in bad_paths:
                continue
            case = _read_case(entry, template, source, f"cases[{i}].", fallback=None, location=f"cases[{i}]")
            if case[0] is not None:
                result.cases.append(case[0])
            else:
                result.issues.extend(case[1])
    else:
        case, issues = _read_case(doc, template, source, "", fallback=PurePath(source).stem, location=None)
        if case is not None:
            result.cases.append(case)
        result.issues.extend(issues)
    return result


def _schema_issue(err: Any, path: list[Any]) -> Issue:
    return Issue("error", "invalid-case", f"{err.message}; this case is not scored", _loc(path))


def _read_case(entry: dict[str, Any], template: Template, source: str, prefix: str,
               fallback: str | None, location: str | None) -> tuple[Case | None, list[Issue]]:
    b = CaseBuilder(template, source, location)
    declared = entry.get("template")
    if prefix and isinstance(declared, str) and declared != template.id:
        b.issue("warning", "template-mismatch",
                f"the case names template {declared!r}; it is scored against {template.id!r}", f"{prefix}template")
    for key, value in (entry.get("case") or {}).items():
        loc = f"{prefix}case.{key}"
        fld = template.fields.get(key) or b.index.field(key)
        if fld is None:
            b.issue("warning", "unknown-field", f"{key!r} is not a case field of {template.id}; ignored", loc)
            continue
        b.set_field(fld, value, loc)
    for key, value in (entry.get("answers") or {}).items():
        loc = f"{prefix}answers.{key}"
        crit = template.criteria.get(key) or b.index.criterion(key)
        if crit is None:
            if not is_blank(value):
                b.issue("warning", "unknown-criterion", f"{key!r} is not a criterion of {template.id}; ignored", loc)
            continue
        if isinstance(value, dict):
            b.set_answer(crit.id, value.get("answer"), loc, value.get("evidence"), value.get("comment"))
        else:
            b.set_answer(crit.id, value, loc)
    if entry.get("notes"):
        b.add_note(str(entry["notes"]))
    case = b.build(fallback_id=fallback)
    return case, ([] if case is not None else b.issues)
