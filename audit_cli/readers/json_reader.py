"""JSON case files: one case ``{"case": {...}, "answers": {...}}`` or a register ``{"cases": [...]}``.

The parser is guarded: the encoding, the nesting depth and the number of
objects are checked on the raw bytes before ``json.loads`` runs (a 200,000-deep
array never reaches the recursive parser), numbers and string lengths are
bounded, and duplicate keys become warnings with their location.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from itertools import accumulate
from pathlib import PurePath
from typing import Any

from ..errors import ReadError
from ..model import Case, Issue, Template
from ..resources import validator
from ..values import is_blank, shorten, text_of
from . import ReadResult
from .common import CaseBuilder

MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_CONTAINERS = 1_000_000  # objects + arrays: each costs ~200 bytes once parsed
MAX_CASES = 100_000
MAX_STRING_CHARS = 1_000_000
MAX_INT_DIGITS = 4300  # Python's own limit for int(str)
MAX_UNKNOWN_KEYS = 20  # unknown fields/criteria reported per case before a summary line

#: a JSON string; an unterminated one runs to the end, so a file of escaped quotes is one
#: linear match rather than a new scan from every quote (quadratic: minutes for 100 KB)
_STRING = re.compile(rb'"[^"\\]*(?:\\(?:.|\Z)[^"\\]*)*(?:"|\Z)', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _key(k: Any) -> str:
    """A key as it may appear in a location or message: printable and bounded."""
    if type(k) is str and len(k) <= 200:
        return _short_key(k)  # the same keys (A1, team) recur in every case
    return _key_uncached(k)


def _key_uncached(k: Any) -> str:
    return shorten(_UNPRINTABLE.sub("?", str(k)), 40)


_short_key = lru_cache(maxsize=4096)(_key_uncached)


def _loc(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{_key(p)}" if out else _key(p))
    return out or "(top level)"


# --------------------------------------------------------------------------- guarded parsing


def _text(data: bytes) -> str:
    """UTF-8 text, with or without a BOM; any other encoding is refused by name."""
    if len(data) > MAX_JSON_BYTES:
        raise ReadError(f"JSON file is {len(data) / 1048576:.1f} MB, over the {MAX_JSON_BYTES // 1048576} MB limit")
    encoding = _foreign_encoding(data[:4])
    if encoding is not None:
        raise ReadError(f"JSON file is encoded as {encoding}; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ReadError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02X} at line {line}, column {col} "
            "(saved as Latin-1 or Windows-1252?); save it as UTF-8"
        ) from None


def _foreign_encoding(head: bytes) -> str | None:
    """UTF-16/32 by BOM or by the NUL pattern of a first ASCII character (RFC 4627 section 3)."""
    if head.startswith((b"\x00\x00\xfe\xff",)):
        return "UTF-32 (big-endian)"
    if head.startswith(b"\xff\xfe\x00\x00"):
        return "UTF-32 (little-endian)"
    if head.startswith(b"\xfe\xff"):
        return "UTF-16 (big-endian)"
    if head.startswith(b"\xff\xfe"):
        return "UTF-16 (little-endian)"
    if len(head) >= 4:
        if head[:3] == b"\x00\x00\x00":
            return "UTF-32 (big-endian)"
        if head[1:4] == b"\x00\x00\x00":
            return "UTF-32 (little-endian)"
    if len(head) >= 2:
        if head[0] == 0 and head[1] != 0:
            return "UTF-16 (big-endian)"
        if head[0] != 0 and head[1] == 0:
            return "UTF-16 (little-endian)"
    return None


def _check_structure(data: bytes) -> None:
    """Depth and container count from the brackets outside strings, in C-speed passes,
    so neither a deep nest nor millions of tiny objects reach the parser."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    opened = brackets.count(b"[") + brackets.count(b"{")
    if opened > MAX_CONTAINERS:
        raise ReadError(f"JSON holds {opened:,} objects and arrays, more than the {MAX_CONTAINERS:,} "
                        "a case file may have")
    if opened > MAX_DEPTH:
        depth = max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)
        if depth > MAX_DEPTH:
            raise ReadError(f"JSON is nested {depth:,} levels deep; the limit is {MAX_DEPTH}")


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ReadError(f"a number with {digits:,} digits is too large (the limit is {MAX_INT_DIGITS:,} digits)")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ReadError(f"a number too large to hold ({shorten(text, 20)}) overflows")
    return value


def _parse_constant(name: str) -> Any:
    raise ReadError(f"{name} is not a JSON value; write a number or leave it empty (null)")


class _DupDict(dict):  # type: ignore[type-arg]
    """An object that had repeated keys: JSON keeps the last value, the reader says so."""

    __slots__ = ("duplicates",)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a plain dict, or a ``_DupDict`` naming the keys given twice."""
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    seen: set[str] = set()
    dups: list[str] = []
    for k, _ in pairs:
        if k in seen and k not in dups:
            dups.append(k)
        seen.add(k)
    out = _DupDict(d)
    out.duplicates = dups
    return out


def parse_json(data: bytes) -> tuple[Any, list[Issue]]:
    """The document, and warnings about it (duplicate keys); raises ReadError with one line."""
    text = _text(data)
    _check_structure(data)
    repeated: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        d = _pairs(items)
        if isinstance(d, _DupDict) and not repeated:
            repeated.append(True)
        return d

    try:
        doc = json.loads(text, object_pairs_hook=pairs, parse_int=_parse_int, parse_float=_parse_float,
                         parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise ReadError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:  # unreachable after the depth check; kept so no traceback can escape
        raise ReadError(f"JSON is nested more than {MAX_DEPTH} levels deep") from None
    if len(data) <= MAX_STRING_CHARS and not repeated:
        return doc, []  # no string can be longer than the file, and no key was repeated: nothing to walk
    return doc, _walk(doc)


def _walk(doc: Any) -> list[Issue]:
    """Bound every string, and turn repeated keys into warnings at their location."""
    issues: list[Issue] = []
    stack: list[tuple[Any, list[Any]]] = [(doc, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise ReadError(f"{_loc(path)}: text of {len(value):,} characters, over the "
                                f"{MAX_STRING_CHARS:,} a value may hold")
        elif isinstance(value, dict):
            if isinstance(value, _DupDict):
                for k in value.duplicates:
                    issues.append(Issue("warning", "duplicate-key",
                                        f"key {_key(k)!r} is given more than once; the last value is used",
                                        _loc(path + [k])))
            for k, v in value.items():
                if len(k) > MAX_STRING_CHARS:
                    raise ReadError(f"{_loc(path)}: a key of {len(k):,} characters, over the "
                                    f"{MAX_STRING_CHARS:,} a key may hold")
                if isinstance(v, (str, dict, list)):
                    stack.append((v, path + [k]))
        elif isinstance(value, list):
            stack.extend((v, path + [i]) for i, v in enumerate(value) if isinstance(v, (str, dict, list)))
    issues.sort(key=lambda i: i.location or "")
    return issues


# --------------------------------------------------------------------------- schema messages


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _schema_message(err: Any, path: list[Any]) -> str:
    """What is wrong, in words that never quote the file's values (they may be personal)."""
    v = err.validator
    parent = path[-2] if len(path) >= 2 else None
    if v == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = {"object": "an object", "array": "a list", "string": "text", "number": "a number",
                 "boolean": "true/false", "null": "null", "integer": "a whole number"}
        return f"should be {' or '.join(words.get(w, w) for w in wanted)}, not {_json_type(err.instance)}"
    if v == "required":
        return str(err.message)  # names only the schema's own keys
    if v == "additionalProperties" and isinstance(err.instance, dict):
        known = set(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in known]
        shown = ", ".join(repr(_key(k)) for k in extra[:5]) + (" …" if len(extra) > 5 else "")
        allowed = ", ".join(sorted(known))
        return f"unexpected key(s) {shown} (allowed: {allowed})"
    if v == "anyOf" and all(isinstance(s, dict) and "required" in s for s in err.validator_value):
        needed = " or ".join(f'"{s["required"][0]}"' for s in err.validator_value)
        return f"needs {needed}"
    if v in ("oneOf", "anyOf") and parent == "answers":
        return (f"should be an answer (text, a number or null) or an object with \"answer\", \"evidence\" "
                f"and \"comment\", not {_json_type(err.instance)}")
    if v in ("oneOf", "anyOf") and parent == "case":
        return f"should be text, a number, true/false, null or a list of text, not {_json_type(err.instance)}"
    return f"does not have the form a case file needs ({v})"


# --------------------------------------------------------------------------- the schema, fast


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scalar_or_null(v: Any) -> bool:
    return v is None or isinstance(v, str) or _is_number(v)


def _text_or_null(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _case_conforms(c: Any) -> bool:
    if not isinstance(c, dict) or not c.keys() <= _CASE_KEYS or ("case" not in c and "answers" not in c):
        return False
    if "template" in c and not isinstance(c["template"], str):
        return False
    if "notes" in c and not _text_or_null(c["notes"]):
        return False
    fields = c.get("case", {})
    if not isinstance(fields, dict):
        return False
    for v in fields.values():
        if not (_scalar_or_null(v) or isinstance(v, bool)
                or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
            return False
    answers = c.get("answers", {})
    if not isinstance(answers, dict):
        return False
    for v in answers.values():
        if _scalar_or_null(v):
            continue
        if not (isinstance(v, dict) and v.keys() <= _ANSWER_KEYS and _scalar_or_null(v.get("answer"))
                and _text_or_null(v.get("evidence")) and _text_or_null(v.get("comment"))):
            return False
    return True


_CASE_KEYS = frozenset({"template", "case", "answers", "notes"})
_ANSWER_KEYS = frozenset({"answer", "evidence", "comment"})


def conforms(doc: Any) -> bool:
    """``schemas/case.schema.json`` checked by hand, about fifty times faster than jsonschema.

    True only where the schema holds; when this says False, jsonschema runs to say
    exactly what is wrong and where (tests check the two agree on generated documents).
    """
    if not isinstance(doc, dict):
        return False
    if "cases" in doc:
        return (doc.keys() <= {"template", "cases"} and isinstance(doc["cases"], list)
                and ("template" not in doc or isinstance(doc["template"], str))
                and all(_case_conforms(c) for c in doc["cases"]))
    return _case_conforms(doc)


# --------------------------------------------------------------------------- reading


def read(data: bytes, template: Template, source: str) -> ReadResult:
    doc, warnings = parse_json(data)
    if not isinstance(doc, dict):
        raise ReadError(f"the top level is {_json_type(doc)}, not an object with \"case\"/\"answers\" or \"cases\"")
    cases = doc.get("cases")
    if isinstance(cases, list) and len(cases) > MAX_CASES:
        raise ReadError(f"the register holds {len(cases):,} cases, more than the {MAX_CASES:,} a file may hold")
    result = ReadResult(issues=warnings)
    errors = [] if conforms(doc) else sorted(
        validator("case").iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    bad_paths: set[tuple[Any, ...]] = set()
    for err in errors:
        path = list(err.absolute_path)
        # A register entry that fails the schema is reported and skipped; a broken single case rejects the file.
        if "cases" in doc and len(path) >= 2 and path[0] == "cases":
            bad_paths.add(tuple(path[:2]))
            result.issues.append(_schema_issue(err, path))
        else:
            raise ReadError(f"{_loc(path)}: {_schema_message(err, path)}")
    declared = doc.get("template")
    if isinstance(declared, str) and declared != template.id:
        result.issues.append(Issue("warning", "template-mismatch",
                                   f"the file names template {_key(declared)!r}; it is scored against {template.id!r}",
                                   "template"))
    if "cases" in doc:
        for i, entry in enumerate(doc["cases"]):
            if ("cases", i) in bad_paths:
                continue
            entry_case, entry_issues = _read_case(entry, template, source, f"cases[{i}].", fallback=None,
                                                  location=f"cases[{i}]")
            if entry_case is not None:
                result.cases.append(entry_case)
            else:
                result.issues.extend(entry_issues)
    else:
        case, issues = _read_case(doc, template, source, "", fallback=PurePath(source).stem, location=None)
        if case is not None:
            result.cases.append(case)
        result.issues.extend(issues)
    return result


def _schema_issue(err: Any, path: list[Any]) -> Issue:
    return Issue("error", "invalid-case", f"{_schema_message(err, path)}; this case is not scored", _loc(path))


def _read_case(entry: dict[str, Any], template: Template, source: str, prefix: str,
               fallback: str | None, location: str | None) -> tuple[Case | None, list[Issue]]:
    b = CaseBuilder(template, source, location)
    declared = entry.get("template")
    if prefix and isinstance(declared, str) and declared != template.id:
        b.issue("warning", "template-mismatch",
                f"the case names template {_key(declared)!r}; it is scored against {template.id!r}",
                f"{prefix}template")
    unknown = 0
    for key, value in (entry.get("case") or {}).items():
        loc = f"{prefix}case.{_key(key)}"
        fld = template.fields.get(key) or b.index.field(key)
        if fld is None:
            unknown += 1
            if unknown <= MAX_UNKNOWN_KEYS:
                b.issue("warning", "unknown-field", f"{_key(key)!r} is not a case field of {template.id}; ignored", loc)
            continue
        b.set_field(fld, value, loc)
    for key, value in (entry.get("answers") or {}).items():
        loc = f"{prefix}answers.{_key(key)}"
        crit = template.criteria.get(key) or b.index.criterion(key)
        if crit is None:
            if not is_blank(value):
                unknown += 1
                if unknown <= MAX_UNKNOWN_KEYS:
                    b.issue("warning", "unknown-criterion",
                            f"{_key(key)!r} is not a criterion of {template.id}; ignored", loc)
            continue
        if isinstance(value, dict):
            b.set_answer(crit.id, value.get("answer"), loc, value.get("evidence"), value.get("comment"))
        else:
            b.set_answer(crit.id, value, loc)
    if unknown > MAX_UNKNOWN_KEYS:
        b.issue("warning", "unknown-keys", f"{unknown - MAX_UNKNOWN_KEYS:,} more unknown keys are ignored",
                location or None)
    if entry.get("notes"):
        b.add_note(text_of(entry["notes"]))
    case = b.build(fallback_id=fallback)
    return case, ([] if case is not None else b.issues)
