"""``msp-audit report``: combine earlier runs into the board's workbook, summary and trend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import DebugOpt, QuietOpt, TemplateOpt, err, guarded


def report(
    results: Annotated[list[Path], typer.Argument(help="results.json files written by 'msp-audit score', in round order.", metavar="RESULTS.json...")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="The board workbook to write (.xlsx); with several rounds it gains a Trends sheet.", metavar="FILE")] = None,
    docx: Annotated[Optional[Path], typer.Option("--docx", help="Also write a Word summary for the board, with the change since the previous round.", metavar="FILE")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table: the latest round's summary on the terminal; json: the merged results document with trends on stdout; markdown: the summary as Markdown tables.")] = "table",
    suppress_small: Annotated[bool, typer.Option("--suppress-small", help="Show counts of 1-4 as * and round other counts to 5 in the workbook and the Word summary.")] = False,
    template: TemplateOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Re-aggregate earlier runs: several agencies into one round, several rounds into a trend.

    Runs with the same label (score --label) are one round: their cases are pooled and every figure is computed again over all of them. Different labels are rounds in the order first given.

    Runs of different templates, or of versions whose criteria differ, are refused with the differences listed. Titles come from the bundled template of the same id and version; for any other, name the template file with -t FILE.

    Exit codes: 0 written; 2 a file that is not a results.json, runs that cannot be combined, or a usage error.

    Example: msp-audit report q1-north/results.json q1-south/results.json q2/results.json -o board.xlsx --docx board.docx
    """
    raise typer.Exit(guarded(debug, lambda: run_report(results, out, docx, format, suppress_small, template, quiet)))


def run_report(
    results: list[Path], out: Path | None, docx: Path | None, format: str, suppress_small: bool,
    template: str | None, quiet: bool,
) -> int:
    from ..errors import ExitCode, UsageError
    from ..report import build_report
    from ..writers.results_json import dumps
    from ..writers.table import render_table

    if format not in ("table", "json", "markdown"):
        raise UsageError(f"--format {format!r}: choose table, json or markdown")
    for option, path in (("--out", out), ("--docx", docx)):
        if path is not None and path.is_dir():
            raise UsageError(f"{option} {path} is a folder; name the file to write")
    board = build_report(results, template)
    for warning in board.warnings:
        err(f"warning: {warning}")
    trends: dict[str, Any] | None = board.trends if board.has_trend else None
    latest = board.latest.doc
    if out is not None:
        from ..writers.aggregate_workbook import write_aggregate_workbook

        write_aggregate_workbook(board.template, latest, out, suppress_small=suppress_small, trends=trends)
    if docx is not None:
        from ..writers.board_docx import write_board_docx

        write_board_docx(board.template, latest, docx, suppress_small=suppress_small, trends=trends)
    if format == "json":
        typer.echo(dumps(board.to_dict()), nl=False)
    elif not quiet:
        shown = {**latest, "trends": trends}
        typer.echo(render_table(shown, board.template.all_dimensions(), "github" if format == "markdown" else "simple"), nl=False)
    if not quiet:
        rounds = ", ".join(f"{r.name} ({len(r.sources)} run{'s' if len(r.sources) > 1 else ''})" for r in board.rounds)
        err(f"rounds: {rounds}")
        for path in (out, docx):
            if path is not None:
                err(f"wrote {path}")
        if out is None and docx is None and format != "json":
            err("no --out or --docx given: nothing written")
    return int(ExitCode.OK)
