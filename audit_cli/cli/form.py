"""``msp-audit form``: a blank audit form that auditors fill in and ``score`` reads back."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DebugOpt, TemplateOpt, err, guarded


class FormFormat(str, Enum):
    xlsx = "xlsx"
    docx = "docx"
    json = "json"


def form(
    format: Annotated[Optional[FormFormat], typer.Option("--format", "-f", help="xlsx (Excel), docx (Word) or json. Default: from the --out file's suffix.")] = None,
    template: TemplateOpt = None,
    output: Annotated[Optional[Path], typer.Option("--out", "-o", help="The file to write. Default: <template id>-form.<format> in the current folder.", metavar="FILE")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a blank audit form for a template: an Excel workbook with dropdowns, a Word
    document with tick boxes, or a JSON skeleton. Fill it in and run 'msp-audit score' on it.

    Refuses to overwrite an existing file unless --force is given.

    Example: msp-audit form -f xlsx -o round-3-audit.xlsx
    """

    def body() -> int:
        from ..errors import UsageError
        from ..forms import FORM_FORMATS, default_form_name, write_form
        from ..templates import load_template

        fmt = format.value if format is not None else None
        if fmt is None and output is not None and output.suffix.lower().lstrip(".") in FORM_FORMATS:
            fmt = output.suffix.lower().lstrip(".")
        if fmt is None:
            raise UsageError("choose a form format with -f xlsx, -f docx or -f json")
        if output is not None and output.suffix.lower().lstrip(".") in FORM_FORMATS and output.suffix.lower() != f".{fmt}":
            raise UsageError(f"--out {output} does not end in .{fmt}, the format asked for")
        tpl = load_template(template)
        path = output if output is not None else Path(default_form_name(tpl, fmt))
        write_form(tpl, fmt, path, force=force)
        err(f"wrote {path} (blank {fmt} form for {tpl.id} {tpl.version}, {len(tpl.criteria)} questions)")
        return 0

    raise typer.Exit(guarded(debug, body))
