"""``msp-audit templates``: the bundled templates, and checking a custom one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import DebugOpt, err, guarded

app = typer.Typer(
    help="List and show the bundled audit templates, and check a custom one.\n\nExample: msp-audit templates show msp-core",
    no_args_is_help=True,
)


@app.command("list")
def list_templates(debug: DebugOpt = False) -> None:
    """List the bundled templates: id, version, title and number of criteria.

    Example: msp-audit templates list
    """

    def body() -> int:
        from tabulate import tabulate

        from ..templates import bundled_templates, load_template

        rows = []
        for tid in bundled_templates():
            t = load_template(tid)
            rows.append([t.id, t.version, t.title, len(t.criteria)])
        typer.echo(tabulate(rows, headers=["id", "version", "title", "criteria"]))
        return 0

    raise typer.Exit(guarded(debug, body))


@app.command("show")
def show(
    template_id: Annotated[str, typer.Argument(metavar="ID", help="A bundled template id or a template file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the template document itself.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Show a template: sections, criteria with weights and what they evidence, dimensions, bands.

    Example: msp-audit templates show msp-core
    """

    def body() -> int:
        from tabulate import tabulate

        from ..templates import load_template

        t = load_template(template_id)
        if as_json:
            typer.echo(json.dumps(t.raw, indent=2, ensure_ascii=False))
            return 0
        typer.echo(f"{t.title}\n{t.id} {t.version}" + (f"\n\n{t.description}" if t.description else ""))
        for s in t.sections:
            rows = []
            for c in s.criteria:
                mapped = "; ".join(f"{d} {', '.join(v)}" for d, v in c.map.items())
                rows.append([c.id + (" (critical)" if c.critical else ""), c.text, f"{c.weight:g}", mapped,
                             "if " + json.dumps(c.applies_if) if c.applies_if else ""])
            typer.echo(f"\n{s.title}\n" + tabulate(rows, headers=["id", "question", "weight", "evidences", "applies"],
                                                   maxcolwidths=[None, 60, None, 40, 30]))
        for d in t.dimensions.values():
            rows = [[i.id, i.title, i.group or i.statement or ""] for i in d.items]
            typer.echo(f"\n{d.title}\n" + tabulate(rows, headers=["id", "title", ""], maxcolwidths=[None, 50, 70]))
        bands = ", ".join(f"{b.label} ≥ {b.min:g}" for b in t.bands)
        typer.echo(f"\nBands: {bands}; a failed critical criterion caps the rating at {t.critical_cap}.")
        return 0

    raise typer.Exit(guarded(debug, body))


@app.command("validate")
def validate_template(
    file: Annotated[Path, typer.Argument(help="The template file to check.")],
    debug: DebugOpt = False,
) -> None:
    """Check a template file; list every problem with its JSON pointer (exit 2 when there are any).

    Example: msp-audit templates validate my-template.json
    """

    def body() -> int:
        from ..templates import load_template

        t = load_template(file)
        err(f"{file}: valid template {t.id} {t.version} ({len(t.criteria)} criteria, {len(t.sections)} sections)")
        return 0

    raise typer.Exit(guarded(debug, body))
