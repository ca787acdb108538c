"""The Word summary a quality lead takes to the Safeguarding Adults Board.

A few pages a board member reads before the meeting: the headline figures, how
practice evidences each MSP essential step and principle, what lowers scores
most, which cases failed a critical question, how sound the data is, the gates
and, from ``report``, the change since the previous round. It renders the
results document only: no personal field and no free text from case files ever
reaches it (case ids, the tool's own messages and the template's wording only).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import disclosure
from ..aggregate import NOT_RATED
from ..gates import failure_message, shown_value
from ..model import Template
from ..outputs import atomic_write
from . import utc_naive

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

TOP_CRITERIA = 10
DASH = "–"


def _num(v: float | str | None, suffix: str = "") -> str:
    """A figure to one decimal place; a suppressed one as ``*``; none as a dash."""
    if v is None:
        return DASH
    if isinstance(v, str):
        return v
    return f"{v:.1f}{suffix}"


def _change(v: float | None) -> str:
    return DASH if v is None else f"{v:+.1f}"


def run_datetime(doc: dict[str, Any]) -> dt.datetime:
    """When the run was made (UTC, naive as Word stores it); the epoch when unknown, so output stays stable."""
    return utc_naive((doc.get("run") or {}).get("generated")) or dt.datetime(1970, 1, 1)


class _Figures:
    """Counts, shares and means as the board may see them (``--suppress-small``)."""

    def __init__(self, suppress: bool) -> None:
        self.suppress = suppress

    def count(self, n: int | None) -> str:
        v = disclosure.show_count(n, self.suppress)
        return DASH if v is None else str(v)

    def share(self, share: float | None, n: int | None) -> str:
        return _num(disclosure.show_share(share, n, self.suppress), "%")

    def mean(self, value: float | None, n: int | None, suffix: str = "") -> str:
        return _num(disclosure.show_mean(value, n, self.suppress), suffix)


def _table(document: "DocxDocument", headers: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)


def _headline(document: "DocxDocument", doc: dict[str, Any], fig: _Figures) -> None:
    agg = doc["aggregate"]
    document.add_heading("Headline figures", level=1)
    _table(document, ["Measure", "Value"], [
        ["Cases audited", fig.count(agg["cases"])],
        ["Cases rated", fig.count(agg["rated"])],
        ["Mean score", fig.mean(agg["mean_score"], agg["rated"])],
        ["Cases with a critical failure", fig.count(agg["critical_failures"]["cases"])],
    ])
    document.add_heading("Ratings", level=2)
    shares = agg.get("rating_shares", {})
    _table(document, ["Rating", "Cases", "Share"], [
        [label, fig.count(n), fig.share(shares.get(label), n)] for label, n in agg["ratings"].items()
    ])


def _dimensions(document: "DocxDocument", template: Template, doc: dict[str, Any], fig: _Figures) -> None:
    agg = doc["aggregate"]
    for dim_id, dim in template.all_dimensions().items():
        document.add_heading(dim.title, level=1)
        has_group = any(i.group for i in dim.items)
        has_statement = any(i.statement for i in dim.items)
        headers = ["Item", "Title"]
        headers += ["Group"] if has_group else []
        headers += ["“I” statement"] if has_statement else []
        headers += ["Mean score", "Cases"]
        rows = []
        for item in dim.items:
            figures = agg["dimensions"].get(dim_id, {}).get(item.id, {})
            n = figures.get("cases", 0)
            row = [item.id, item.title]
            row += [item.group or ""] if has_group else []
            row += [item.statement or ""] if has_statement else []
            row += [fig.mean(figures.get("mean"), n), fig.count(n)]
            rows.append(row)
        _table(document, headers, rows)


def _shortfalls(document: "DocxDocument", template: Template, doc: dict[str, Any], fig: _Figures) -> None:
    criteria = doc["aggregate"]["criteria"]
    ranked = sorted(
        (cid for cid, c in criteria.items() if cid in template.criteria and (c.get("shortfall") or 0) > 0),
        key=lambda cid: (-criteria[cid]["shortfall"], cid),
    )[:TOP_CRITERIA]
    document.add_heading("What lowers scores most", level=1)
    if not ranked:
        document.add_paragraph("No criterion lowered any score.")
        return
    document.add_paragraph(
        "The criteria that pull scores down most across the round (weight × shortfall from full marks, summed over cases)."
    )
    rows = []
    for cid in ranked:
        c = criteria[cid]
        att = None if c["attainment"] is None else 100.0 * c["attainment"]
        rows.append([cid, template.criteria[cid].text, fig.mean(att, c.get("scored"), "%"), fig.count(c.get("scored"))])
    _table(document, ["Criterion", "Question", "Attainment", "Cases scored"], rows)


def _critical(document: "DocxDocument", template: Template, doc: dict[str, Any], fig: _Figures) -> None:
    crit = doc["aggregate"]["critical_failures"]
    document.add_heading("Critical failures", level=1)
    if not crit["cases"]:
        document.add_paragraph("No case failed a critical criterion.")
        return
    document.add_paragraph(
        f"Cases in which a critical criterion was answered with no points: {fig.count(crit['cases'])}. "
        f"Their rating is capped at {template.critical_cap or 'no band'}."
    )
    if fig.suppress:
        # Listing the cases would count them: withheld with the other small numbers.
        document.add_paragraph("The cases are not listed because small numbers are suppressed.")
    else:
        _table(document, ["Case", "Criteria failed"],
               [[case_id, ", ".join(ids)] for case_id, ids in crit["by_case"].items()])
    by_criterion = crit.get("by_criterion", {})
    if by_criterion:
        document.add_heading("By criterion", level=2)
        _table(document, ["Criterion", "Question", "Cases"], [
            [cid, template.criteria[cid].text if cid in template.criteria else "", fig.count(n)]
            for cid, n in by_criterion.items()
        ])


def _data_quality(document: "DocxDocument", doc: dict[str, Any], fig: _Figures) -> None:
    inputs = doc["inputs"]
    status = {s: sum(1 for i in inputs if i["status"] == s) for s in ("read", "rejected", "skipped")}
    issues = [i for c in doc["cases"] for i in c["issues"]] + [i for r in inputs for i in r.get("issues", [])]
    errors = sum(1 for i in issues if i["severity"] == "error")
    unanswered = sum(1 for c in doc["cases"] for r in c["criteria"].values() if r["status"] == "unanswered")
    document.add_heading("Data quality", level=1)
    _table(document, ["Measure", "Value"], [
        ["Files read", str(status["read"])],
        ["Files rejected", str(status["rejected"])],
        ["Files skipped", str(status["skipped"])],
        ["Errors in cases", str(errors)],
        ["Warnings in cases", str(len(issues) - errors)],
        ["Unanswered criteria", str(unanswered)],
        ["Cases not rated", fig.count(doc["aggregate"]["ratings"].get(NOT_RATED, 0))],
    ])
    rejected = doc.get("rejected", [])
    if rejected:
        document.add_heading("Files rejected", level=2)
        _table(document, ["File", "Reason"], [[r["path"], r["error"] or ""] for r in rejected])


def _gates(document: "DocxDocument", doc: dict[str, Any]) -> None:
    gates = doc.get("gates") or []
    document.add_heading("Gates", level=1)
    if not gates:
        document.add_paragraph("No gates were set for this run.")
        return
    failed = [g for g in gates if not g["passed"]]
    document.add_paragraph(
        "Every gate passed." if not failed else "Failed: " + "; ".join(failure_message(g) for g in failed) + "."
    )
    _table(document, ["Gate", "Value", "Result"], [
        [g["gate"], shown_value(g), "pass" if g["passed"] else "FAIL"]
        for g in gates
    ])


def _trend(document: "DocxDocument", trends: dict[str, Any] | None, fig: _Figures) -> None:
    if not trends or len(trends["rounds"]) < 2:
        return
    previous, latest = trends["rounds"][-2], trends["rounds"][-1]
    document.add_heading(f"Change since {previous}", level=1)
    document.add_paragraph(
        f"Mean scores in {latest} against {previous} (rounds reported: {', '.join(trends['rounds'])})."
    )
    rows = []
    for row in trends["rows"]:
        if row["kind"] == "criterion":
            continue
        cases = row.get("cases") or [None] * len(row["values"])
        before = fig.mean(row["values"][-2], cases[-2])
        after = fig.mean(row["values"][-1], cases[-1])
        change = disclosure.SUPPRESSED if disclosure.SUPPRESSED in (before, after) else _change(row["change"][-1])
        rows.append([row["id"] if row["kind"] != "overall" else "", row["title"], before, after, change])
    _table(document, ["Item", "Measure", previous, latest, "Change"], rows)


def build_board_document(
    template: Template, doc: dict[str, Any], *, suppress_small: bool = False, trends: dict[str, Any] | None = None
) -> "DocxDocument":
    """The python-docx document, built in memory."""
    from docx import Document

    fig = _Figures(suppress_small)
    when = run_datetime(doc)
    label = (doc.get("run") or {}).get("label")
    document = Document()
    props = document.core_properties
    props.title = f"{template.title}: board summary"
    props.subject = label or ""
    props.author = "msp-audit"
    props.last_modified_by = "msp-audit"
    props.created = when
    props.modified = when
    props.revision = 1

    document.add_heading(f"{template.title}: board summary", level=0)
    document.add_paragraph(f"Round: {label or 'not labelled'}")
    document.add_paragraph(f"Date: {when.day} {when:%B %Y}")
    document.add_paragraph(f"Template: {template.id} {doc['template']['version']}")
    if suppress_small:
        document.add_paragraph(
            "Small numbers are suppressed: counts of 1 to 4 are shown as *, other counts are rounded "
            "to the nearest 5, and figures resting on 1 to 4 cases are shown as *."
        )
    _headline(document, doc, fig)
    _dimensions(document, template, doc, fig)
    _shortfalls(document, template, doc, fig)
    _critical(document, template, doc, fig)
    _data_quality(document, doc, fig)
    _gates(document, doc)
    _trend(document, trends, fig)
    return document


def write_board_docx(
    template: Template, doc: dict[str, Any], path: Path, *, suppress_small: bool = False,
    trends: dict[str, Any] | None = None,
) -> Path:
    """Write the board summary atomically: a crash never leaves half a document at ``path``."""
    document = build_board_document(template, doc, suppress_small=suppress_small, trends=trends)
    atomic_write(path, lambda tmp: document.save(str(tmp)))
    return path
