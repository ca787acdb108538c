"""Combine earlier runs for the board: agencies into one round, rounds into a trend.

A round is every run given with the same label (several agencies auditing the
same quarter): their cases are pooled and aggregated again with the same
``Aggregator`` that ``score`` uses, so a merged figure is the mean over all
cases, never a mean of means. Different labels are rounds in the order first
given, and the trend runs across them. Runs of different templates cannot be
compared and are refused with the differences listed. Pure apart from reading
the results files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .aggregate import Aggregator
from .api import SCHEMA_VERSION, display_path
from .errors import AuditError, UsageError
from .model import Template

MAX_RESULTS_BYTES = 500 * 1024 * 1024


class ReportError(AuditError):
    """A results file that cannot be used, or runs that cannot be combined (exit 2)."""


@dataclass
class Run:
    """One earlier run: the results.json document and the name it was given by."""

    path: str
    doc: dict[str, Any]

    @property
    def label(self) -> str | None:
        label: str | None = (self.doc.get("run") or {}).get("label")
        return label

    @property
    def template_ref(self) -> str:
        return f"{self.doc['template']['id']} {self.doc['template']['version']}"


@dataclass
class Round:
    """The runs of one round merged into one results document."""

    name: str  # the label, or the results file of an unlabelled run
    doc: dict[str, Any]
    sources: list[str]


@dataclass
class BoardReport:
    template: Template
    rounds: list[Round]
    trends: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def latest(self) -> Round:
        return self.rounds[-1]

    @property
    def has_trend(self) -> bool:
        return len(self.rounds) > 1

    def to_dict(self) -> dict[str, Any]:
        """The latest round's merged document with the trend across every round."""
        return {**self.latest.doc, "trends": self.trends}


# --------------------------------------------------------------------------- reading


def load_run(path: Path) -> Run:
    """A results.json written by ``score``; anything else is refused naming the file."""
    from .resources import validator

    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_RESULTS_BYTES:
            raise ReportError(f"{shown}: file is {size / 1048576:.0f} MB, over the {MAX_RESULTS_BYTES // 1048576} MB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ReportError(f"{shown}: not UTF-8 text, so not a results.json") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{shown}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ReportError(f"{shown}: JSON nested too deeply, so not a results.json") from None
    if not isinstance(doc, dict) or "schema_version" not in doc or "aggregate" not in doc:
        raise ReportError(f"{shown}: not an msp-audit results.json (no schema_version and aggregate)")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ReportError(f"{shown}: results schema_version {doc.get('schema_version')!r} is not {SCHEMA_VERSION}")
    # The schema checks everything but the cases; jsonschema takes seconds per thousand cases,
    # so each case is checked by hand for exactly what re-aggregation relies on.
    cases = doc.get("cases")
    errors = sorted(validator("results").iter_errors({**doc, "cases": []}), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(f"{shown}: not a valid msp-audit results.json: {where}: {errors[0].message}{more}")
    if not isinstance(cases, list):
        raise ReportError(f"{shown}: not a valid msp-audit results.json: cases: {cases!r} is not an array")
    for n, case in enumerate(cases):
        problem = case_problem(case)
        if problem is not None:
            raise ReportError(f"{shown}: not a valid msp-audit results.json: cases/{n}{problem}")
    return Run(shown, doc)


_STATUSES = ("scored", "excluded", "unanswered", "not_applicable")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def case_problem(case: Any) -> str | None:
    """What is wrong with one case of a results.json, as ``/pointer: problem``; None when it can be aggregated."""
    if not isinstance(case, dict):
        return ": not an object"
    for key in ("id", "source"):
        if not isinstance(case.get(key), str):
            return f"/{key}: {case.get(key)!r} is not text"
    if case.get("score") is not None and not (_is_num(case["score"]) and 0 <= case["score"] <= 100):
        return f"/score: {case['score']!r} is not a score from 0 to 100 or null"
    if case.get("rating") is not None and not isinstance(case["rating"], str):
        return f"/rating: {case['rating']!r} is not text or null"
    failures = case.get("critical_failures")
    if not isinstance(failures, list) or not all(isinstance(c, str) for c in failures):
        return f"/critical_failures: {failures!r} is not a list of criterion ids"
    dims = case.get("dimensions")
    if not isinstance(dims, dict):
        return f"/dimensions: {dims!r} is not an object"
    for d, items in dims.items():
        if not isinstance(items, dict) or not all(v is None or _is_num(v) for v in items.values()):
            return f"/dimensions/{d}: not an object of scores"
    criteria = case.get("criteria")
    if not isinstance(criteria, dict):
        return f"/criteria: {criteria!r} is not an object"
    for cid, r in criteria.items():
        if not isinstance(r, dict) or r.get("status") not in _STATUSES:
            return f"/criteria/{cid}: no status among {', '.join(_STATUSES)}"
        if r.get("answer") is not None and not isinstance(r["answer"], str):
            return f"/criteria/{cid}/answer: {r['answer']!r} is not text or null"
        if r["status"] == "scored" and not (_is_num(r.get("points")) and _is_num(r.get("max")) and r["max"] > 0):
            return f"/criteria/{cid}: a scored criterion needs numeric points and a max above 0"
    if not isinstance(case.get("fields"), dict):
        return f"/fields: {case.get('fields')!r} is not an object"
    issues = case.get("issues")
    if not isinstance(issues, list) or not all(isinstance(i, dict) and i.get("severity") in ("error", "warning") for i in issues):
        return "/issues: not a list of issues with a severity"
    return None


# --------------------------------------------------------------------------- compatibility


def _shape(doc: dict[str, Any]) -> tuple[set[str], dict[str, set[str]]]:
    """Criterion ids and dimension item ids, as the aggregate records them."""
    agg = doc["aggregate"]
    return set(agg["criteria"]), {d: set(items) for d, items in agg["dimensions"].items()}


def _only(kind: str, a: set[str], b: set[str], a_name: str, b_name: str) -> list[str]:
    out = []
    for left, right, name in ((a, b, a_name), (b, a, b_name)):
        extra = sorted(left - right)
        if extra:
            out.append(f"{kind} only in {name}: {', '.join(extra)}")
    return out


def shape_differences(
    a_name: str, a: tuple[set[str], dict[str, set[str]]], b_name: str, b: tuple[set[str], dict[str, set[str]]]
) -> list[str]:
    """Every difference in criteria and dimension items between two shapes."""
    diffs = _only("criteria", a[0], b[0], a_name, b_name)
    diffs += _only("dimensions", set(a[1]), set(b[1]), a_name, b_name)
    for dim in sorted(set(a[1]) & set(b[1])):
        diffs += _only(f"{dim} items", a[1][dim], b[1][dim], a_name, b_name)
    return diffs


def check_compatible(runs: list[Run]) -> None:
    """Refuse runs of different templates, or of versions whose criteria or dimensions differ."""
    first = runs[0]
    problems: list[str] = []
    for other in runs[1:]:
        diffs = shape_differences(first.path, _shape(first.doc), other.path, _shape(other.doc))
        if other.doc["template"]["id"] != first.doc["template"]["id"]:
            problems.append(f"{first.path} uses template {first.template_ref}, {other.path} uses {other.template_ref}")
            problems += diffs
        elif diffs:
            problems.append(f"{first.path} uses {first.template_ref}, {other.path} uses {other.template_ref}, "
                            "and their criteria differ")
            problems += diffs
    if problems:
        raise ReportError("runs of different templates cannot be combined: " + "; ".join(problems))


def template_for(runs: list[Run], ref: str | None) -> Template:
    """The template for titles and re-aggregation: ``-t`` if given, else the bundled one of the same version."""
    from .templates import bundled_templates, load_template

    tid = runs[0].doc["template"]["id"]
    versions = sorted({r.doc["template"]["version"] for r in runs})
    if ref is None:
        if tid not in bundled_templates():
            raise ReportError(f"the runs use template {tid!r}, which is not bundled: name its file with -t FILE")
        template = load_template(tid)
        if template.version not in versions:
            raise ReportError(
                f"the runs use {tid} {', '.join(versions)} but the bundled {tid} is {template.version}: "
                "name the template file they were scored with, -t FILE"
            )
    else:
        template = load_template(ref)
        if template.id != tid:
            raise ReportError(f"-t {ref}: the template is {template.id!r} but the runs use {tid!r}")
    dims = template.all_dimensions()
    shape = (set(template.criteria), {d: {i.id for i in dim.items} for d, dim in dims.items()})
    diffs = shape_differences(f"template {template.id} {template.version}", shape, runs[0].path, _shape(runs[0].doc))
    if diffs:
        raise ReportError(f"the template does not match the runs: {'; '.join(diffs)}")
    return template


# --------------------------------------------------------------------------- merging


def group_rounds(runs: list[Run]) -> list[tuple[str, list[Run]]]:
    """Runs grouped by label in the order first given; an unlabelled run is a round of its own."""
    rounds: dict[str, list[Run]] = {}
    for run in runs:
        name = run.label if run.label else run.path
        rounds.setdefault(name, []).append(run)
    return list(rounds.items())


def merge_round(template: Template, name: str, runs: list[Run], warnings: list[str] | None = None) -> Round:
    """One results document for a round: cases pooled and aggregated again, inputs and rejections joined."""
    from .gates import evaluate_gates, parse_gate

    agg = Aggregator(template)
    cases: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    gate_texts: list[str] = []
    for run in runs:
        for case in run.doc["cases"]:
            first = seen.setdefault(case["id"], run.path)
            if first != run.path and warnings is not None:
                warnings.append(f"round {name}: case {case['id']!r} is in both {first} and {run.path}")
            agg.add(case)
            cases.append(case)
        inputs += run.doc["inputs"]
        rejected += run.doc["rejected"]
        gate_texts += [g["gate"] for g in run.doc.get("gates", []) if g["gate"] not in gate_texts]
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "msp-audit", "version": __version__},
        "template": {"id": template.id, "version": runs[-1].doc["template"]["version"], "title": template.title},
        "run": {
            "label": runs[0].label,
            "generated": max((r.doc.get("run") or {}).get("generated") or "" for r in runs),
            "sources": [r.path for r in runs],
        },
        "inputs": inputs,
        "cases": cases,
        "aggregate": agg.to_dict(),
        "rejected": rejected,
    }
    # The runs' own gates, measured again on the pooled round.
    gates = []
    for text in gate_texts:
        try:
            gates.append(parse_gate(text, template))
        except UsageError as exc:
            if warnings is not None:
                warnings.append(f"round {name}: {exc}; not measured")
    doc["gates"] = evaluate_gates(gates, doc)
    return Round(name, doc, [r.path for r in runs])


def _changes(values: list[float | None]) -> list[float | None]:
    return [None] + [
        (b - a) if a is not None and b is not None else None for a, b in zip(values, values[1:])
    ]


def build_trends(template: Template, rounds: list[Round]) -> dict[str, Any]:
    """Overall mean, every dimension item (sections too) and every criterion's attainment (%), per round.

    Each row also carries ``cases``, how many cases each value rests on, so that a
    writer can suppress small numbers in the trend as it does elsewhere.
    """
    rows: list[dict[str, Any]] = []

    def add(kind: str, item_id: str, title: str, values: list[float | None], cases: list[int]) -> None:
        rows.append({"kind": kind, "id": item_id, "title": title, "values": values, "change": _changes(values),
                     "cases": cases})

    aggs = [r.doc["aggregate"] for r in rounds]
    add("overall", "mean", "Overall mean score", [a["mean_score"] for a in aggs], [a["rated"] for a in aggs])
    for dim_id, dim in template.all_dimensions().items():
        for item in dim.items:
            figures = [a["dimensions"][dim_id][item.id] for a in aggs]
            add(dim_id, item.id, item.title, [f["mean"] for f in figures], [f["cases"] for f in figures])
    for cid, crit in template.criteria.items():
        figures = [a["criteria"][cid] for a in aggs]
        add("criterion", cid, crit.text,
            [None if f["attainment"] is None else 100.0 * f["attainment"] for f in figures],
            [f.get("scored", 0) for f in figures])
    return {"rounds": [r.name for r in rounds], "rows": rows}


def build_report(paths: list[Path], template_ref: str | None = None) -> BoardReport:
    """Read the runs, check they can be combined, merge each round and trend across rounds."""
    if not paths:
        raise ReportError("no results files given (for example: msp-audit report q1/results.json q2/results.json)")
    warnings: list[str] = []
    unique: dict[Path, Path] = {}
    for p in paths:
        if p.resolve() in unique:
            warnings.append(f"{display_path(p)} is given more than once; it is read once")
        unique.setdefault(p.resolve(), p)
    runs = [load_run(p) for p in unique.values()]
    check_compatible(runs)
    template = template_for(runs, template_ref)
    rounds = [merge_round(template, name, group, warnings) for name, group in group_rounds(runs)]
    return BoardReport(template, rounds, build_trends(template, rounds), warnings)
