"""The short summary a person reads on the terminal (tabulate)."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from ..gates import shown_value


def fmt(v: float | None, suffix: str = "") -> str:
    """Scores are kept at full precision and shown to one decimal place."""
    return "–" if v is None else f"{v:.1f}{suffix}"


def summary_tables(doc: dict[str, Any], template_dims: dict[str, Any],
                   errors: int | None = None) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) for each table of the summary; shared by every text format.
    ``errors``: the run's error count when the caller kept it (else the cases are read for it)."""
    agg = doc["aggregate"]
    files = doc["inputs"]
    read = sum(1 for i in files if i["status"] == "read")
    rejected = sum(1 for i in files if i["status"] == "rejected")
    if errors is None:
        errors = sum(1 for c in doc["cases"] for i in c["issues"] if i["severity"] == "error") + sum(
            1 for f in files for i in f.get("issues", []) if i["severity"] == "error"
        )
    head: list[list[Any]] = [
        ["Template", f"{doc['template']['id']} {doc['template']['version']}"],
        ["Files read", read],
        ["Files rejected", rejected],
        ["Cases", agg["cases"]],
        ["Rated", agg["rated"]],
        ["Mean score", fmt(agg["mean_score"])],
        ["Cases with a critical failure", agg["critical_failures"]["cases"]],
        ["Errors in cases", errors],
    ]
    if doc.get("run", {}).get("label"):
        head.insert(0, ["Round", doc["run"]["label"]])
    tables: list[tuple[str, list[str], list[list[Any]]]] = [("Summary", ["", ""], head)]
    ratings = [[label, n, fmt(agg["rating_shares"].get(label), "%")] for label, n in agg["ratings"].items()]
    tables.append(("Ratings", ["Rating", "Cases", "Share"], ratings))
    for dim_id, dim in template_dims.items():
        if dim_id == "section":
            continue
        rows = []
        for item in dim.items:
            s = agg["dimensions"].get(dim_id, {}).get(item.id, {})
            rows.append([item.id, item.title, fmt(s.get("mean")), s.get("cases", 0)])
        tables.append((dim.title, ["", dim.title, "Mean", "Cases"], rows))
    gates = doc.get("gates")
    if gates:
        tables.append(("Gates", ["Gate", "Value", "Result"],
                       [[g["gate"], shown_value(g),
                         "pass" if g["passed"] else "FAIL"] for g in gates]))
    trend = trend_table(doc.get("trends"))
    if trend is not None:
        tables.append(trend)
    return tables


def trend_table(trends: dict[str, Any] | None) -> tuple[str, list[str], list[list[Any]]] | None:
    """Overall and dimension means per round, with the change since the previous round
    (sections and criteria stay in the workbook: the terminal has no room for them)."""
    if not trends or len(trends["rounds"]) < 2:
        return None
    rows = []
    for row in trends["rows"]:
        if row["kind"] in ("section", "criterion"):
            continue
        last = row["change"][-1]
        change = "–" if last is None else f"{last:+.1f}"
        rows.append([row["id"] if row["kind"] != "overall" else "", row["title"], *(fmt(v) for v in row["values"]), change])
    return ("Trend", ["", "Measure", *trends["rounds"], "Change"], rows)


def _md_cell(value: Any) -> Any:
    """A cell that cannot break a Markdown table: pipes escaped, one line."""
    if isinstance(value, str):
        return " ".join(value.split()).replace("|", "\\|")
    return value


def render_markdown(doc: dict[str, Any], template_dims: dict[str, Any], errors: int | None = None) -> str:
    """The summary as Markdown (a heading and a table per part), for CI job summaries."""
    title = f"msp-audit: {doc['template'].get('title') or doc['template']['id']}"
    label = doc.get("run", {}).get("label")
    parts = [f"## {_md_cell(title)}" + (f" ({_md_cell(label)})" if label else "")]
    for name, headers, rows in summary_tables(doc, template_dims, errors):
        if headers == ["", ""]:
            headers = ["Measure", "Value"]
        headers = [h or " " for h in headers]
        body = [[_md_cell(c) for c in r] for r in rows]
        parts.append(f"### {_md_cell(name)}\n\n" + tabulate(body, headers=[_md_cell(h) for h in headers],
                                                          tablefmt="github", disable_numparse=True))
    return "\n\n".join(parts) + "\n"


def render_table(doc: dict[str, Any], template_dims: dict[str, Any], tablefmt: str = "simple",
                 errors: int | None = None) -> str:
    """The terminal summary; ``tablefmt="github"`` gives the Markdown form."""
    if tablefmt in ("github", "markdown"):
        return render_markdown(doc, template_dims, errors)
    parts = []
    for _title, headers, rows in summary_tables(doc, template_dims, errors):
        parts.append(tabulate(rows, headers=headers if headers != ["", ""] else (), tablefmt=tablefmt,
                              disable_numparse=True))
    return "\n\n".join(parts) + "\n"
