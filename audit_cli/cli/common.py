"""Pieces every command shares: the error boundary, output helpers and option types."""

from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, NoReturn, TypeVar

import typer

from ..errors import AuditError, ExitCode, TemplateError

T = TypeVar("T")

TemplateOpt = Annotated[
    str | None,
    typer.Option("--template", "-t", help="A bundled template id (see 'msp-audit templates list') or a template file. Default: msp-core."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an unexpected error.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary or progress; errors and rejected files only.")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings (exit code 1); never hides 2.")]


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def err(line: str) -> None:
    """One line on stderr."""
    typer.echo(line, err=True)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    err(f"msp-audit: {message}")
    raise typer.Exit(int(code))


def guarded(debug: bool, fn: Callable[[], T]) -> T:
    """Run a command body: our errors are one line and exit 2; a bug is one line and a hint."""
    try:
        return fn()
    except typer.Exit:
        raise
    except TemplateError as exc:
        err(f"msp-audit: template {exc.source} is not valid:")
        for p in exc.problems:
            err(f"  {p}")
        raise typer.Exit(int(ExitCode.USAGE)) from None
    except AuditError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        err("msp-audit: interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # never print case data: only the error's type
        if debug:
            traceback.print_exc(file=sys.stderr)
        err(f"msp-audit: unexpected error ({type(exc).__name__}); rerun with --debug to see the traceback")
        raise typer.Exit(int(ExitCode.USAGE)) from None


def final_code(findings: bool, exit_zero: bool) -> int:
    if findings and not exit_zero:
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise AuditError(f"--out {out} exists and is not a folder")
