"""``msp-audit validate``: read and check case files, write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DebugOpt, OutputFormat, TemplateOpt, err, final_code, guarded


def validate(
    paths: Annotated[list[Path], typer.Argument(help="Case files or folders to check.")],
    template: TemplateOpt = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table: one line per problem; json: the problems as a JSON document.")] = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Read and check case files against a template; write nothing, list every problem with its location.

    Exits 1 when a file is rejected or a case holds an error, 0 otherwise.

    Example: msp-audit validate samples/ -t msp-core
    """

    def body() -> int:
        from ..api import RunOptions, run_audit
        from ..templates import load_template
        from ..writers.results_json import dumps

        tpl = load_template(template)
        case_problems: list[dict[str, Any]] = []

        def collect(case: Any, result: Any) -> None:
            # The full messages, quoting what was typed: validate writes nothing, it only tells.
            for i in result.issues:
                case_problems.append({"path": result.source, "case": result.id, "severity": i.severity,
                                      "code": i.code, "message": i.message, "location": i.location})

        report = run_audit(paths, tpl, RunOptions(), on_case=collect)
        problems = []
        for rec in report.inputs:
            if rec.status == "rejected":
                problems.append({"path": rec.path, "severity": "error", "code": "rejected", "message": rec.error, "location": None})
            elif rec.status == "skipped":
                problems.append({"path": rec.path, "severity": "warning", "code": "skipped", "message": rec.note, "location": None})
            for i in rec.issues:
                problems.append({"path": rec.path, **i.to_dict(), "message": i.message})
        problems += case_problems
        if format is OutputFormat.json:
            typer.echo(dumps({"files": len(report.inputs), "cases": len(report.cases), "problems": problems}), nl=False)
        else:
            for p in problems:
                where = ": ".join(x for x in (p["path"], p.get("location")) if x)
                typer.echo(f"{where}: {p['severity']}: {p['message']}")
            read = sum(1 for r in report.inputs if r.status == "read")
            errors = sum(1 for p in problems if p["severity"] == "error")
            warnings = len(problems) - errors
            err(f"{read} file(s) read, {len(report.cases)} case(s), {errors} error(s), {warnings} warning(s)")
        return final_code(report.has_findings, False)

    raise typer.Exit(guarded(debug, body))
