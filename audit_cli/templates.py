"""Load and check audit templates.

A template is refused with *every* problem, each prefixed with its JSON
pointer, so that whoever wrote it can fix them all in one pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from .errors import TemplateError
from .model import (
    Band,
    CaseField,
    Criterion,
    Dimension,
    DimensionItem,
    Scale,
    ScaleOption,
    Section,
    Template,
)
from .resources import data_dir, validator
from .values import ValueProblem, norm_answer, parse_boolean, parse_date, parse_number

DEFAULT_TEMPLATE = "msp-core"


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def bundled_templates() -> dict[str, Path]:
    """Bundled template ids and their files, in id order."""
    out: dict[str, Path] = {}
    for path in sorted(data_dir("audit_templates").glob("*.json")):
        out[path.stem] = path
    return out


def load_template(ref: str | Path | None = None) -> Template:
    """A bundled template by id, or a template file by path."""
    ref = DEFAULT_TEMPLATE if ref is None else ref
    bundled = bundled_templates()
    is_bundled = isinstance(ref, str) and ref in bundled
    if isinstance(ref, str) and is_bundled:
        path = bundled[ref]
    else:
        path = Path(ref)
        if not path.is_file():
            known = ", ".join(bundled) or "none"
            raise TemplateError(str(ref), [f"no such template file or bundled template (bundled: {known})"])
    try:
        with open(path, "rb") as fh:
            raw = fh.read(5_000_001)
        if len(raw) > 5_000_000:
            raise TemplateError(str(path), ["template file is larger than 5 MB"])
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise TemplateError(str(path), ["template is not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:
        raise TemplateError(
            str(path), [f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    except OSError as exc:
        raise TemplateError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    return template_from_dict(doc, source=str(path), bundled=is_bundled)


def template_from_dict(doc: Any, source: str = "<template>", bundled: bool = False) -> Template:
    """A checked template. A ``bundled`` one ships with the package and its schema check runs in
    the test suite (``test_bundled_templates_are_valid``), not on every run: loading jsonschema
    and validating costs more than a small run's reading."""
    problems = list(_semantic_problems(doc)) if bundled else check_template(doc)
    if problems:
        raise TemplateError(source, problems)
    return _build(doc, source)


def check_template(doc: Any) -> list[str]:
    """Every problem with a template document, schema first, then the semantic rules."""
    schema_problems = [
        f"{pointer(*err.absolute_path) or '/'}: {_schema_message(err)}"
        for err in sorted(validator("template").iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if schema_problems:
        # Semantic rules assume the shapes the schema guarantees.
        return schema_problems
    return list(_semantic_problems(doc))


def _schema_message(err: Any) -> str:
    if err.validator == "oneOf":
        return "not a valid condition (use field with equals/in/contains/present, or all/any/not)"
    return str(err.message)


def _dupes(items: list[tuple[str, str]], kind: str) -> Iterator[str]:
    """Given (pointer, key) pairs, a problem for every repeat."""
    seen: dict[str, str] = {}
    for ptr, key in items:
        if key in seen:
            yield f"{ptr}: duplicate {kind} {key!r} (first at {seen[key]})"
        else:
            seen[key] = ptr


def _semantic_problems(doc: dict[str, Any]) -> Iterator[str]:
    scales: dict[str, Any] = doc["scales"]
    dims: dict[str, Any] = doc.get("dimensions", {})
    fields: list[dict[str, Any]] = doc["case_fields"]
    sections: list[dict[str, Any]] = doc["sections"]
    bands: list[dict[str, Any]] = doc["scoring"]["bands"]

    # scales: unique option values and answer spellings; at least one numeric option
    for sid, scale in scales.items():
        opts = scale["options"]
        yield from _dupes([(pointer("scales", sid, "options", i, "value"), o["value"]) for i, o in enumerate(opts)], "option value")
        if not any(o["points"] is not None for o in opts):
            yield f"{pointer('scales', sid, 'options')}: scale {sid!r} has no option with numeric points"
        elif max(o["points"] for o in opts if o["points"] is not None) <= 0:
            yield (f"{pointer('scales', sid, 'options')}: scale {sid!r} needs an option with points above 0 "
                   "(attainment is points divided by the scale's largest)")
        spellings: list[tuple[str, str]] = []
        for i, o in enumerate(opts):
            words = {norm_answer(o["value"]), norm_answer(o["label"])}
            words |= {norm_answer(s) for s in o.get("synonyms", [])}
            spellings += [(pointer("scales", sid, "options", i), w) for w in sorted(words) if w]
        owner: dict[str, str] = {}
        for ptr, w in spellings:
            if w in owner and owner[w] != ptr:
                yield f"{ptr}: answer {w!r} also matches {owner[w]}"
            owner.setdefault(w, ptr)

    # dimensions: unique item ids; "section" is implicit
    if "section" in dims:
        yield f"{pointer('dimensions', 'section')}: 'section' is implicit and cannot be declared"
    for did, dim in dims.items():
        yield from _dupes([(pointer("dimensions", did, "items", i, "id"), it["id"]) for i, it in enumerate(dim["items"])], f"{did} item")

    # case fields
    yield from _dupes([(pointer("case_fields", i, "id"), f["id"]) for i, f in enumerate(fields)], "case field id")
    ids = [i for i, f in enumerate(fields) if f.get("role") == "identifier"]
    if len(ids) != 1:
        where = ", ".join(pointer("case_fields", i) for i in ids) or "none"
        yield f"{pointer('case_fields')}: exactly one case field must have role \"identifier\" (found {len(ids)}: {where})"
    judges = [i for i, f in enumerate(fields) if f.get("role") == "judgement"]
    if len(judges) > 1:
        yield f"{pointer('case_fields', judges[1], 'role')}: at most one case field may have role \"judgement\""
    band_labels = [b["label"] for b in bands]
    for i, f in enumerate(fields):
        if "choices" in f and f["type"] not in ("choice", "multichoice"):
            yield f"{pointer('case_fields', i, 'choices')}: only choice and multichoice fields take choices"
        if "choices" in f:
            yield from _dupes(
                [(pointer("case_fields", i, "choices", j), c.casefold()) for j, c in enumerate(f["choices"])], "choice"
            )
        if f.get("role") == "judgement":
            if f["type"] != "choice":
                yield f"{pointer('case_fields', i, 'type')}: the judgement field must be a choice among the band labels"
            else:
                for j, c in enumerate(f.get("choices", [])):
                    if c not in band_labels:
                        yield f"{pointer('case_fields', i, 'choices', j)}: judgement choice {c!r} is not a band label"
        if f.get("role") == "identifier" and f.get("personal"):
            yield f"{pointer('case_fields', i, 'personal')}: the identifier cannot be personal (it names outputs)"
    field_types = {f["id"]: f for f in fields}

    # sections and criteria
    yield from _dupes([(pointer("sections", i, "id"), s["id"]) for i, s in enumerate(sections)], "section id")
    crit_ptrs = [
        (pointer("sections", i, "criteria", j, "id"), c["id"])
        for i, s in enumerate(sections)
        for j, c in enumerate(s["criteria"])
    ]
    yield from _dupes(crit_ptrs, "criterion id")
    for i, s in enumerate(sections):
        for j, c in enumerate(s["criteria"]):
            base = ("sections", i, "criteria", j)
            if c["scale"] not in scales:
                yield f"{pointer(*base, 'scale')}: scale {c['scale']!r} is not declared"
            for dim, items in c.get("map", {}).items():
                if dim == "section":
                    yield f"{pointer(*base, 'map', dim)}: 'section' is implicit; the criterion's section is used"
                    continue
                if dim not in dims:
                    yield f"{pointer(*base, 'map', dim)}: dimension {dim!r} is not declared"
                    continue
                declared = {it["id"] for it in dims[dim]["items"]}
                for k, item in enumerate(items):
                    if item not in declared:
                        yield f"{pointer(*base, 'map', dim, k)}: {dim} {item!r} is not declared"
                yield from _dupes([(pointer(*base, "map", dim, k), it) for k, it in enumerate(items)], f"{dim} item")
            if c.get("applies_if") is not None:
                yield from _condition_problems(c["applies_if"], (*base, "applies_if"), field_types)

    # scoring
    yield from _dupes([(pointer("scoring", "bands", i, "label"), b["label"]) for i, b in enumerate(bands)], "band label")
    yield from _dupes([(pointer("scoring", "bands", i, "min"), str(float(b["min"]))) for i, b in enumerate(bands)], "band min")
    lowest = min(bands, key=lambda b: b["min"])
    if lowest["min"] > 0:
        i = bands.index(lowest)
        yield (f"{pointer('scoring', 'bands', i, 'min')}: the lowest band ({lowest['label']!r}) must start at 0 "
               "so that every score has a rating")
    cap = doc["scoring"].get("critical_cap")
    if cap is not None and cap not in band_labels:
        yield f"{pointer('scoring', 'critical_cap')}: {cap!r} is not a band label ({', '.join(band_labels)})"


def _condition_problems(cond: dict[str, Any], base: tuple[Any, ...], fields: dict[str, Any]) -> Iterator[str]:
    for key in ("all", "any"):
        if key in cond:
            for k, sub in enumerate(cond[key]):
                yield from _condition_problems(sub, (*base, key, k), fields)
            return
    if "not" in cond:
        yield from _condition_problems(cond["not"], (*base, "not"), fields)
        return
    name = cond["field"]
    if name not in fields:
        yield f"{pointer(*base, 'field')}: case field {name!r} is not declared"
        return
    f = fields[name]
    if "contains" in cond and f["type"] != "multichoice":
        yield f"{pointer(*base, 'contains')}: 'contains' needs a multichoice field; {name!r} is {f['type']}"
    choices = {c.casefold() for c in f.get("choices", [])}
    if f["type"] == "multichoice" and ("equals" in cond or "in" in cond):
        op = "equals" if "equals" in cond else "in"
        yield f"{pointer(*base, op)}: {name!r} is multichoice: use 'contains' (one value) or 'any' of several"
    if choices:
        wanted = cond.get("in", [cond[k] for k in ("equals", "contains") if k in cond])
        for v in wanted:
            if str(v).casefold() not in choices:
                yield f"{pointer(*base)}: {v!r} is not one of {name!r}'s choices"
    for v in cond.get("in", [cond[k] for k in ("equals", "contains") if k in cond]):
        try:
            _typed_condition_value(f["type"], v)
        except ValueProblem:
            yield f"{pointer(*base)}: {v!r} is not a {f['type']} value for {name!r}"


def _typed_condition_value(kind: str, value: Any) -> Any:
    """A condition's value as the field's values are stored (yes/no fields as true/false, dates
    as yyyy-mm-dd), so ``equals: "yes"`` and ``equals: "03/02/2026"`` mean what they say."""
    if kind == "boolean":
        return parse_boolean(value)
    if kind == "date":
        return parse_date(value)
    if kind == "number":
        return parse_number(value)
    return value


def _typed_condition(cond: Any, fields: dict[str, CaseField]) -> Any:
    if not isinstance(cond, dict):
        return cond
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        return {key: [_typed_condition(c, fields) for c in cond[key]]}
    if "not" in cond:
        return {"not": _typed_condition(cond["not"], fields)}
    kind = fields[cond["field"]].type
    out = dict(cond)
    for op in ("equals", "contains"):
        if op in out:
            out[op] = _typed_condition_value(kind, out[op])
    if "in" in out:
        out["in"] = [_typed_condition_value(kind, v) for v in out["in"]]
    return out


def _build(doc: dict[str, Any], source: str) -> Template:
    scales = {
        sid: Scale(
            sid,
            tuple(
                ScaleOption(
                    value=o["value"],
                    label=o["label"],
                    points=None if o["points"] is None else float(o["points"]),
                    synonyms=tuple(o.get("synonyms", ())),
                    flag=bool(o.get("flag", False)),
                )
                for o in s["options"]
            ),
        )
        for sid, s in doc["scales"].items()
    }
    dims = {
        did: Dimension(
            did,
            d["title"],
            tuple(
                DimensionItem(it["id"], it["title"], it.get("group"), it.get("statement"), it.get("description"))
                for it in d["items"]
            ),
        )
        for did, d in doc.get("dimensions", {}).items()
    }
    fields = tuple(
        CaseField(
            id=f["id"],
            label=f["label"],
            type=f["type"],
            choices=tuple(f.get("choices", ())),
            role=f.get("role"),
            personal=bool(f.get("personal", False)),
            breakdown=bool(f.get("breakdown", False)),
            help=f.get("help"),
        )
        for f in doc["case_fields"]
    )
    sections = tuple(
        Section(
            s["id"],
            s["title"],
            tuple(
                Criterion(
                    id=c["id"],
                    text=c["text"],
                    scale=c["scale"],
                    section=s["id"],
                    weight=float(c.get("weight", 1)),
                    critical=bool(c.get("critical", False)),
                    guidance=c.get("guidance"),
                    map={k: tuple(v) for k, v in c.get("map", {}).items()},
                    applies_if=_typed_condition(c.get("applies_if"), {f.id: f for f in fields}),
                )
                for c in s["criteria"]
            ),
            s.get("description"),
        )
        for s in doc["sections"]
    )
    bands = tuple(
        sorted((Band(b["label"], float(b["min"])) for b in doc["scoring"]["bands"]), key=lambda b: -b.min)
    )
    cap = doc["scoring"].get("critical_cap")
    return Template(
        id=doc["id"],
        version=doc["version"],
        title=doc["title"],
        scales=scales,
        dimensions=dims,
        case_fields=fields,
        sections=sections,
        bands=bands,
        critical_cap=cap,
        description=doc.get("description"),
        source=source,
        raw=doc,
    )
