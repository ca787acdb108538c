"""What a ``score`` run was asked to do, after flags and a config file are resolved (``config.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ScoreSettings:
    paths: list[Path] = field(default_factory=list)
    template: str | None = None
    out: Path = Path("audit-output")
    format: str = "table"  # table | json | markdown
    jobs: int | None = None  # None: the machine's CPU count
    label: str | None = None
    gates: list[str] = field(default_factory=list)
    fail_under: float | None = None
    pseudonymise: Path | None = None
    suppress_small: bool = False
    per_case: bool = True
    junit: Path | None = None
    docx: Path | None = None
    exit_zero: bool = False
    quiet: bool = False
    verbose: bool = False
    config: Path | None = None  # the config file these settings came from, if any

    def update(self, values: dict[str, object]) -> "ScoreSettings":
        """Apply values that were actually given (None means not given)."""
        for k, v in values.items():
            if v is not None:
                setattr(self, k, v)
        return self
