"""The ``msp-audit`` command: one module per command, joined here.

This is the only layer that prints or exits. Domain errors (``AuditError``)
become one line on stderr and exit code 2; anything unexpected becomes one line
and a hint to rerun with ``--debug``.
"""

from __future__ import annotations

import typer

from . import form as _form
from . import report as _report
from . import samples_cmd as _samples
from . import score as _score
from . import templates_cmd as _templates
from . import validate as _validate

app = typer.Typer(
    name="msp-audit",
    help=(
        "Audit adult safeguarding case files against Making Safeguarding Personal (MSP): "
        "score completed audit forms (Excel, Word, JSON) against a template and report "
        "to the Safeguarding Adults Board.\n\n"
        "Example: msp-audit score samples/ -o audit-output"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("score", no_args_is_help=False)(_score.score)
app.command("validate", no_args_is_help=True)(_validate.validate)
app.command("report", no_args_is_help=True)(_report.report)
app.command("form", no_args_is_help=False)(_form.form)
app.command("samples", no_args_is_help=True)(_samples.samples)
app.add_typer(_templates.app, name="templates")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # output piped into head and the like
        import os
        import sys

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
