"""The project's own exceptions and its exit codes, named once."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # everything read and every gate passed
    FINDINGS = 1  # a gate failed, an input was rejected, or a case holds an error
    USAGE = 2  # usage, config or template error; nothing written


class AuditError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""

    exit_code = ExitCode.USAGE


class UsageError(AuditError):
    """Bad command-line arguments or options."""


class ConfigError(AuditError):
    """A config file that cannot be used."""


class TemplateError(AuditError):
    """A template that cannot be loaded; ``problems`` lists every one, each with its pointer."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0] if problems else "invalid template"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}")


class ReadError(Exception):
    """A case file that cannot be read at all: it is rejected with this one-line reason."""
