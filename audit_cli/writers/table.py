"""The short summary a person reads on the terminal (tabulate)."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate


def fmt(v: float | None, suffix: str = "") -> str:
    """Scores are kept at full precision and shown to one decimal place."""
    return "–" if v is None else f"{v:.1f}{suffix}"


def summary_tables(doc: dict[str, Any], template_dims: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) for each table of the summary; shared by every text format."""
    agg = doc["aggregate"]
    files = doc["inputs"]
    read = sum(1 for i in files if i["status"] == "read")
    rejected = sum(1 for i in files if i["status"] == "rejected")
    errors = sum(1 for c in doc["cases"] for i in c["issues"] if i["severity"] == "error") + sum(
        1 for f in files for i in f.get("issues", []) if i["severity"] == "error"
    )
    head = [
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
                       [[g["gate"], fmt(g["value"]), "pass" if g["passed"] else "FAIL"] for g in gates]))
    return tables


def render_table(doc: dict[str, Any], template_dims: dict[str, Any], tablefmt: str = "simple") -> str:
    parts = []
    for title, headers, rows in summary_tables(doc, template_dims):
        if tablefmt == "github":
            parts.append(f"### {title}\n\n" + tabulate(rows, headers=headers, tablefmt=tablefmt))
        else:
            parts.append(tabulate(rows, headers=headers if headers != ["", ""] else (), tablefmt=tablefmt))
    return "\n\n".join(parts) + "\n"
