"""``msp-audit score``: the main job."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer

from .common import DebugOpt, TemplateOpt, check_out_dir, err, final_code, guarded


def score(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Case files or folders (searched recursively, in sorted order).")] = None,
    template: TemplateOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder for results.json and the workbooks. Default: audit-output.")] = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="table: a summary on the terminal; json: the results document on stdout; markdown: the summary as Markdown tables.")] = None,
    fail_under: Annotated[Optional[float], typer.Option("--fail-under", help="Exit 1 when the mean score is below PCT (the gate 'mean >= PCT').", metavar="PCT")] = None,
    gate: Annotated[Optional[list[str]], typer.Option("--gate", help="A threshold such as 'mean >= 75', 'step:7 >= 70', 'principle:empowerment >= 80', 'critical_failures <= 2', 'rejected == 0' or 'share:Inadequate <= 10'. Repeatable.")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="A name for this round, such as '2026 Q2', stored in results.json.")] = None,
    verbose: Annotated[Optional[bool], typer.Option("--verbose", "-v", help="Also list every warning (unanswered criteria, duplicates) on stderr.")] = None,
    exit_zero: Annotated[Optional[bool], typer.Option("--exit-zero", help="Exit 0 even when there are findings (exit code 1); never hides 2.")] = None,
    quiet: Annotated[Optional[bool], typer.Option("--quiet", "-q", help="Print no summary or progress; errors and rejected files only.")] = None,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Also write a JUnit XML report (a test case per case, an error per rejected file) for CI servers.", metavar="FILE")] = None,
    docx: Annotated[Optional[Path], typer.Option("--docx", help="Also write a Word summary for the Safeguarding Adults Board.", metavar="FILE")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Read settings from this file (msp-audit.toml, or a pyproject.toml with \\[tool.msp-audit]) instead of the nearest one found walking up from the current folder. Flags override it.", metavar="FILE")] = None,
    isolated: Annotated[bool, typer.Option("--isolated", help="Ignore every config file.")] = False,
    pseudonymise: Annotated[Optional[Path], typer.Option("--pseudonymise", help="Replace case references in results.json, the aggregate workbook and per-case file names with keyed pseudonyms (P- and 12 hex digits, HMAC-SHA256 with this file's bytes: at least 16, kept secret; the same key gives the same pseudonyms every run).", metavar="KEYFILE")] = None,
    suppress_small: Annotated[Optional[bool], typer.Option("--suppress-small", help="In aggregate.xlsx and the Word summary, show counts of 1-4 as * and round other counts to the nearest 5 (for sharing beyond the board); leaves out the case-level sheets.")] = None,
    no_per_case: Annotated[Optional[bool], typer.Option("--no-per-case", help="Do not write a workbook per case into OUT/cases/.")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes. Default: the machine's CPU count; 1 reads everything in this process. The output is the same whatever N is.", metavar="N")] = None,
    debug: DebugOpt = False,
) -> None:
    """Score every case file under PATHS and write results.json into --out.

    Exit codes: 0 everything read and every gate passed; 1 findings (a gate failed,
    a file was rejected, or a case holds an error); 2 usage, config or template error.

    Settings may come from a config file, msp-audit.toml or \\[tool.msp-audit] in pyproject.toml, the nearest one walking up from the current folder: keys as the long flags with _ for -, inputs = \\[PATHS], paths relative to the file. With one, a scheduled job runs 'msp-audit score' with no PATHS.

    Example: msp-audit score samples/ -o audit-output --fail-under 75
    """
    cli_values: dict[str, Any] = {
        "paths": paths or None, "template": template, "out": out, "format": format,
        "fail_under": fail_under, "gates": gate or None, "label": label, "verbose": verbose,
        "exit_zero": exit_zero, "quiet": quiet, "junit": junit, "docx": docx, "pseudonymise": pseudonymise,
        "suppress_small": suppress_small, "per_case": False if no_per_case else None, "jobs": jobs,
    }
    raise typer.Exit(guarded(debug, lambda: run_score(cli_values, config, isolated)))


def run_score(cli_values: dict[str, Any], config: Path | None = None, isolated: bool = False) -> int:
    from ..api import RunOptions, run_audit
    from ..errors import UsageError
    from ..gates import evaluate_gates, fail_under_gate, parse_gate
    from ..outputs import OUTPUT_MARKER, atomic_write_bytes, inside
    from ..config import resolve_score_settings
    from ..templates import load_template
    from ..writers.results_json import dump, write_results

    s = resolve_score_settings(cli_values, config, isolated, Path.cwd())
    if s.format not in ("table", "json", "markdown"):
        raise UsageError(f"--format {s.format!r}: choose table, json or markdown")
    if not s.paths:
        raise UsageError("no case files or folders given (for example: msp-audit score samples/)")
    missing = [str(p) for p in s.paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    tpl = load_template(s.template)
    gate_texts = list(s.gates)
    if s.fail_under is not None:
        gate_texts.append(fail_under_gate(s.fail_under))
    gates = [parse_gate(g, tpl) for g in gate_texts]  # an unknown item is exit 2 before reading
    check_out_dir(s.out)
    for option, path in (("--junit", s.junit), ("--docx", s.docx)):
        if path is not None and path.is_dir():
            raise UsageError(f"{option} {path} is a folder; name the file to write")
        if path is not None and not _can_create(path):
            raise UsageError(f"{option} {path}: its folder cannot be created or written to")
    if s.config is not None and s.verbose:
        err(f"settings from {s.config}")

    from ..privacy import load_key

    key = load_key(s.pseudonymise) if s.pseudonymise is not None else None  # a bad key is exit 2, nothing written
    s.out.mkdir(parents=True, exist_ok=True)  # before the run: case workbooks are written as cases are scored
    from ..api import now_iso
    from ..writers.aggregate_workbook import write_aggregate_workbook
    from ..writers.case_workbook import CaseWorkbooks

    sink = CaseWorkbooks(tpl, s.out, generated=now_iso()) if s.per_case else None
    if sink is not None:
        sink.start()  # reads the previous run's list from the marker, so before the marker is rewritten
    marker = inside(s.out, OUTPUT_MARKER)
    if sink is not None or not marker.exists():  # --no-per-case keeps the list of the workbooks still there
        atomic_write_bytes(marker, b"msp-audit output folder: never read as input\n")
    options = RunOptions(out_dir=s.out, label=s.label, pseudonymise_key=key, jobs=s.jobs or os.cpu_count() or 1,
                         case_writer=sink, board_rows=True)
    with progress_bar(enabled=not s.quiet and s.format != "json") as on_progress:
        try:
            report = run_audit(s.paths, tpl, options, on_progress=on_progress)
        finally:
            if sink is not None:
                sink.cleanup()
    doc: dict[str, Any] = report.to_dict(stream=True)
    doc["gates"] = evaluate_gates(gates, doc)
    write_results(doc, s.out)
    try:
        write_aggregate_workbook(tpl, doc, inside(s.out, "aggregate.xlsx"), suppress_small=s.suppress_small,
                                 digest=report.board)
    finally:
        if report.board is not None:
            report.board.close()
    if s.junit is not None:
        from ..writers.junit import write_junit

        write_junit(doc, tpl, s.junit, fail_under=s.fail_under)
    if s.docx is not None:
        from ..writers.board_docx import write_board_docx

        write_board_docx(tpl, doc, s.docx, suppress_small=s.suppress_small)

    print_findings(doc, s.verbose, s.quiet, report.error_lines, report.case_warnings)
    if s.format == "json":
        dump(doc, sys.stdout)
        sys.stdout.flush()
    elif not s.quiet:
        from ..writers.table import render_table

        typer.echo(render_table(doc, tpl.all_dimensions(), "github" if s.format == "markdown" else "simple",
                                errors=report.error_count), nl=False)
        cases_note = f" and {len(sink.written)} case workbook(s) in {s.out / 'cases'}" if sink else ""
        err(f"wrote {s.out / 'results.json'}, {s.out / 'aggregate.xlsx'}{cases_note}")
    failed_gates = any(not g["passed"] for g in doc["gates"])
    return final_code(report.has_findings or failed_gates, s.exit_zero)


def _can_create(path: Path) -> bool:
    """Whether ``path`` can be written, creating its missing folders: checked before the run,
    so a bad report path is a usage error and nothing is written."""
    folder = path.resolve().parent
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """Files done, cases, rejected, rate and time left on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:  # rich comes with typer; without it, no bar
        yield None
        return
    columns = (
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
        TextColumn("{task.fields[cases]} cases, {task.fields[rejected]} rejected"),
        TextColumn("{task.fields[rate]:.0f} files/s"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("score", total=None, cases=0, rejected=0, rate=0.0)
        counts = {"cases": 0, "rejected": 0}

        def update(record: Any, done: int, total: int) -> None:
            counts["cases"] += record.cases
            counts["rejected"] += record.status == "rejected"
            elapsed = bar.tasks[0].elapsed or 0.0
            bar.update(task, completed=done, total=total, rate=done / elapsed if elapsed else 0.0,
                       cases=counts["cases"], rejected=counts["rejected"])

        yield update


def print_findings(doc: dict[str, Any], verbose: bool, quiet: bool, error_lines: list[str],
                   case_warnings: int | None = None) -> None:
    """One line per rejected file and per error (warnings too with --verbose), on stderr.

    Errors come from the run itself, so they show the value an auditor typed (``'Maybe' is
    not an answer…``), which results.json withholds."""
    from ..model import Issue

    for rec in doc["inputs"]:
        if rec["status"] == "rejected":
            err(f"{rec['path']}: rejected: {rec['error']}")
    for line in error_lines:
        err(line)
    warnings = 0
    for rec in doc["inputs"]:
        for i in rec.get("issues", []):
            if i["severity"] == "warning" and verbose:
                err(Issue(**i).line(rec["path"]))
    if verbose:
        for case in doc["cases"]:
            for i in case["issues"]:
                if i["severity"] == "warning":
                    err(Issue(**i).line(case["source"]))
    elif case_warnings is not None:
        warnings = case_warnings  # counted as the cases arrived: no second pass over them
    else:
        warnings = sum(1 for case in doc["cases"] for i in case["issues"] if i["severity"] == "warning")
    if warnings and not quiet and not verbose:
        err(f"{warnings} warning(s) in cases (unanswered criteria, duplicates…): see results.json or rerun with --verbose")
    from ..gates import failure_message

    for g in doc.get("gates", []):
        if not g["passed"]:
            err(f"gate failed: {failure_message(g)}")
