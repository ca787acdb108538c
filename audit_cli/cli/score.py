"""``msp-audit score``: the main job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import (
    DebugOpt,
    ExitZeroOpt,
    OutputFormat,
    QuietOpt,
    TemplateOpt,
    check_out_dir,
    err,
    final_code,
    guarded,
)


def score(
    paths: Annotated[list[Path], typer.Argument(help="Case files or folders (searched recursively, in sorted order).")],
    template: TemplateOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for results.json and the workbooks.")] = Path("audit-output"),
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table: a summary on the terminal; json: the results document on stdout.")] = OutputFormat.table,
    fail_under: Annotated[Optional[float], typer.Option("--fail-under", help="Exit 1 when the mean score is below PCT (the gate 'mean >= PCT').", metavar="PCT")] = None,
    gate: Annotated[Optional[list[str]], typer.Option("--gate", help="A threshold such as 'mean >= 75', 'step:7 >= 70', 'principle:empowerment >= 80', 'critical_failures <= 2', 'rejected == 0' or 'share:Inadequate <= 10'. Repeatable.")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="A name for this round, such as '2026 Q2', stored in results.json.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also list every warning (unanswered criteria, duplicates) on stderr.")] = False,
    exit_zero: ExitZeroOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Score every case file under PATHS and write results.json into --out.

    Exit codes: 0 everything read and every gate passed; 1 findings (a gate failed,
    a file was rejected, or a case holds an error); 2 usage, config or template error.

    Example: msp-audit score samples/ -o audit-output --fail-under 75
    """

    def body() -> int:
        from ..api import OUTPUT_MARKER, RunOptions, run_audit
        from ..gates import evaluate_gates, fail_under_gate, parse_gate
        from ..outputs import atomic_write_bytes, inside
        from ..templates import load_template
        from ..writers.results_json import dumps, write_results
        from ..writers.table import render_table

        tpl = load_template(template)
        gate_texts = list(gate or [])
        if fail_under is not None:
            gate_texts.append(fail_under_gate(fail_under))
        gates = [parse_gate(g, tpl) for g in gate_texts]  # unknown item: exit 2 before reading
        check_out_dir(out)
        report = run_audit(paths, tpl, RunOptions(out_dir=out, label=label))
        doc: dict[str, Any] = report.to_dict()
        doc["gates"] = evaluate_gates(gates, doc)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(inside(out, OUTPUT_MARKER), b"msp-audit output folder: never read as input\n")
        write_results(doc, out)
        print_findings(doc, verbose, quiet)
        if format is OutputFormat.json:
            typer.echo(dumps(doc), nl=False)
        elif not quiet:
            typer.echo(render_table(doc, tpl.all_dimensions()), nl=False)
            err(f"wrote {out / 'results.json'}")
        failed_gates = any(not g["passed"] for g in doc["gates"])
        return final_code(report.has_findings or failed_gates, exit_zero)

    raise typer.Exit(guarded(debug, body))


def print_findings(doc: dict[str, Any], verbose: bool, quiet: bool) -> None:
    """One line per rejected file and per error (warnings with --verbose), on stderr."""
    from ..model import Issue

    for rec in doc["inputs"]:
        if rec["status"] == "rejected":
            err(f"{rec['path']}: rejected: {rec['error']}")
        for i in rec.get("issues", []):
            if i["severity"] == "error" or verbose:
                err(Issue(**i).line(rec["path"]))
    warnings = 0
    for case in doc["cases"]:
        for i in case["issues"]:
            if i["severity"] == "error" or verbose:
                err(Issue(**i).line(case["source"]))
            else:
                warnings += 1
    if warnings and not quiet and not verbose:
        err(f"{warnings} warning(s) in cases (unanswered criteria, duplicates…): see results.json or rerun with --verbose")
    for g in doc.get("gates", []):
        if not g["passed"]:
            value = "no value" if g["value"] is None else f"{g['value']:.1f}"
            err(f"gate failed: {g['gate']} (value: {value})")
