"""Turning what an auditor typed into values: answers, labels and typed case fields.

Shared by every reader so that a value means the same in JSON, Excel and Word.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from typing import Any

from .model import CaseField, Scale, ScaleOption

_TRAILING_PUNCT = re.compile(r"[\s.,;:!?\-–—*]+$")
_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def norm_answer(text: str) -> str:
    """Case-insensitive, surrounding space and trailing punctuation ignored, inner space folded."""
    return _norm_answer(text) if type(text) is str and len(text) <= _CACHED_LEN else _norm_answer_uncached(str(text))


def _norm_answer_uncached(text: str) -> str:
    t = _SPACES.sub(" ", text).strip()
    t = _TRAILING_PUNCT.sub("", t)
    return t.casefold()


def norm_key(text: Any) -> str:
    """A label or id as a key: case, punctuation and spacing ignored (``Adult's name:`` ~ ``adult_name``)."""
    return _norm_key(text) if type(text) is str and len(text) <= _CACHED_LEN else _norm_key_uncached(str(text))


def _norm_key_uncached(text: str) -> str:
    return _NON_ALNUM.sub("", text).casefold()


# Forms repeat the same labels, headers and answers thousands of times over a run; short
# strings are normalised once. Long ones (free text) are not worth keeping.
_CACHED_LEN = 200
_norm_answer = lru_cache(maxsize=8192)(_norm_answer_uncached)
_norm_key = lru_cache(maxsize=8192)(_norm_key_uncached)


def shorten(text: str, limit: int = 40) -> str:
    """A value quoted in a message: one line, bounded, so messages stay one line and
    carry as little case text as possible."""
    t = _SPACES.sub(" ", str(text)).strip()
    return t if len(t) <= limit else t[: limit - 1] + "…"


class AnswerMatcher:
    """Matches answer text to a scale option by value, label or synonym."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self._index: dict[str, ScaleOption] = {}
        for o in scale.options:
            for word in (o.value, o.label, *o.synonyms):
                self._index.setdefault(norm_answer(word), o)

    def match(self, text: str) -> ScaleOption | None:
        return self._index.get(norm_answer(text))

    def choices_text(self) -> str:
        return ", ".join(o.label for o in self.scale.options)


# --------------------------------------------------------------------------- field values


class ValueProblem(ValueError):
    """A field value that does not parse. ``quote`` is the case text the message quotes."""

    def __init__(self, message: str, quote: str | None = None) -> None:
        super().__init__(message)
        self.quote = quote


def quoted(text: Any, limit: int = 40) -> str:
    """Case text as quoted in a message (one line, bounded)."""
    return repr(shorten(str(text), limit))


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?$")
_UK_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: [\d:]+)?$")
_TRUE = {"yes", "true", "y", "1"}
_FALSE = {"no", "false", "n", "0"}


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return all(is_blank(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return True
    return False


def text_of(value: Any) -> str:
    """Text of a cell value: whole floats lose their ``.0`` (Excel stores 1001 as 1001.0)."""
    if type(value) is str:  # by far the commonest
        return clean_text(value).strip()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean_text(str(value)).strip()


_LINE_BREAKS = re.compile(r"[\x0b\x0c]")  # Word's manual line break and page break
_UNWRITABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Text every writer can store: lone surrogates (from JSON ``\\ud800``) cannot be encoded as
    UTF-8 and control characters are illegal in XML, so either would crash results.json or a
    workbook. Vertical tab and form feed become line breaks; the rest becomes U+FFFD."""
    if not _NEEDS_CLEANING.search(text):
        return text
    return _UNWRITABLE.sub("\ufffd", _LINE_BREAKS.sub("\n", text))


def parse_date(value: Any) -> str:
    """ISO text ``YYYY-MM-DD``, UK ``dd/mm/yyyy`` text, or a real date; returns ISO."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = text_of(value)
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_UK_DATE, (2, 1, 0))):
        m = pattern.match(text)
        if m:
            y, mo, d = (int(m.group(i + 1)) for i in order)
            try:
                return dt.date(y, mo, d).isoformat()
            except ValueError:
                raise ValueProblem(f"{quoted(text)} is not a real date", quoted(text)) from None
    raise ValueProblem(f"{quoted(text)} is not a date (use dd/mm/yyyy or yyyy-mm-dd)", quoted(text))


def parse_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        f = float(value)
    else:
        try:
            f = float(text_of(value).replace(",", ""))
        except ValueError:
            raise ValueProblem(f"{quoted(text_of(value))} is not a number", quoted(text_of(value))) from None
    if not math.isfinite(f):
        raise ValueProblem("number is not finite")
    return f


def parse_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    t = norm_answer(text_of(value))
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueProblem(f"{quoted(text_of(value))} is not yes or no", quoted(text_of(value)))


def _choice(fld: CaseField, text: str) -> str:
    wanted = norm_answer(text)
    for c in fld.choices:
        if norm_answer(c) == wanted:
            return c
    raise ValueProblem(f"{quoted(text)} is not one of the choices for {fld.label} ({', '.join(fld.choices)})",
                       quoted(text))


def _split_multi(fld: CaseField, value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        parts = [text_of(v) for v in value]
    else:
        text = text_of(value)
        parts = []
        for chunk in re.split(r"[;\n\r]+", text):
            chunk = chunk.strip()
            if not chunk:
                continue
            try:
                _choice(fld, chunk)
                parts.append(chunk)
            except ValueProblem:
                # Commas separate values only where the whole chunk is not itself a choice.
                parts.extend(p.strip() for p in chunk.split(","))
    return [p for p in parts if p]


def parse_field(fld: CaseField, value: Any) -> Any:
    """A case field's value by its declared type; raises ValueProblem with a safe message."""
    if fld.type == "text":
        return text_of(value)
    if fld.type == "number":
        return parse_number(value)
    if fld.type == "date":
        return parse_date(value)
    if fld.type == "boolean":
        return parse_boolean(value)
    if fld.type == "choice":
        return _choice(fld, text_of(value))
    if fld.type == "multichoice":
        out: list[str] = []
        for part in _split_multi(fld, value):
            c = _choice(fld, part)
            if c not in out:
                out.append(c)
        return out
    raise ValueProblem(f"unknown field type {fld.type!r}")
