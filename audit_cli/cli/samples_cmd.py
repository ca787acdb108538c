"""``msp-audit samples``: realistic synthetic case files for trying the tool and for benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DebugOpt, err, guarded


def samples(
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder to write the case files into (created if missing).", metavar="DIR")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many files; they cycle through every layout (9), so 9 or more shows them all.")] = 12,
    seed: Annotated[int, typer.Option("--seed", "-s", help="The same seed always gives the same files.")] = 1,
    debug: DebugOpt = False,
) -> None:
    """Write synthetic, obviously fictional msp-core case files in every format and layout
    that 'msp-audit score' reads: JSON cases and registers, Excel forms and registers, Word forms.

    Files with the same names in DIR are replaced; other files are left alone.

    Example: msp-audit samples -o samples --count 24 --seed 7
    """

    def body() -> int:
        from ..errors import AuditError
        from ..samples import LAYOUTS, generate_samples

        if out.exists() and not out.is_dir():
            raise AuditError(f"--out {out} exists and is not a folder")
        try:
            paths = generate_samples(out, count=count, seed=seed)
        except OSError as exc:
            raise AuditError(f"cannot write samples into {out}: {exc.strerror or exc}") from None
        shown = min(len(LAYOUTS), len(paths))
        err(f"wrote {len(paths)} sample case file(s) to {out} ({shown} layout(s), seed {seed})")
        return 0

    raise typer.Exit(guarded(debug, body))
