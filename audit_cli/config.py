"""Config files for scheduled runs: ``msp-audit.toml`` or ``[tool.msp-audit]`` in ``pyproject.toml``.

The nearest file walking up from the working folder wins, whole: files are never
merged, so what a job does can be read from one place. Paths in a config file are
relative to the folder holding it, so a cron job works from any working folder.
Flags given on the command line override the file.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Iterator

from .errors import ConfigError, UsageError
from .resources import load_schema, validator
from .settings import ScoreSettings

CONFIG_NAME = "msp-audit.toml"
PYPROJECT = "pyproject.toml"
TOOL_TABLE = ("tool", "msp-audit")
MAX_CONFIG_BYTES = 1_000_000

#: config keys that name files or folders, resolved against the config file's folder
PATH_KEYS = ("out", "pseudonymise", "junit", "docx")
#: config key -> ScoreSettings attribute, where they differ
RENAMED = {"inputs": "paths"}


def _has_tool_table(pyproject: Path) -> bool:
    """A pyproject.toml counts only when it holds ``[tool.msp-audit]``."""
    try:
        doc = _parse(pyproject)
    except ConfigError:
        # A broken pyproject.toml that might hold our table: report it rather than skip silently.
        try:
            text = pyproject.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        if "tool.msp-audit" in text:
            raise
        return False
    tool = doc.get("tool")
    return isinstance(tool, dict) and TOOL_TABLE[1] in tool


def discover_config(start: Path) -> Path | None:
    """The nearest config file in ``start`` or a folder above it; ``msp-audit.toml`` first in each folder."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_NAME
        if own.is_file():
            return own
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def shown(path: Path, cwd: Path | None = None) -> str:
    """How a config file is named in messages: relative to the working folder when inside it."""
    base = (cwd or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _parse(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{shown(path)}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{shown(path)}: config file is larger than 1 MB")
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{shown(path)}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown(path)}: not valid TOML: {exc}") from None


def _key_path(prefix: str, parts: list[Any]) -> str:
    out = prefix
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _problems(table: Any, prefix: str) -> Iterator[str]:
    """Every schema problem, each naming its key; unknown keys with a suggestion."""
    known = sorted(load_schema("config")["properties"])
    for err in sorted(validator("config").iter_errors(table), key=lambda e: [str(p) for p in e.absolute_path]):
        where = _key_path(prefix, list(err.absolute_path))
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            for key in sorted(k for k in err.instance if k not in known):
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
                yield f"unknown key {_key_path(prefix, [key])!r}{hint}"
        elif where:
            yield f"{where}: {err.message}"
        else:
            yield str(err.message)


def read_config(path: Path) -> dict[str, Any]:
    """The checked settings table of one config file; ``ConfigError`` names the file and every bad key."""
    if not path.is_file():
        raise ConfigError(f"{shown(path)}: no such config file")
    doc = _parse(path)
    prefix = ""
    if path.name == PYPROJECT:
        tool = doc.get("tool")
        if not isinstance(tool, dict) or TOOL_TABLE[1] not in tool:
            raise ConfigError(f"{shown(path)}: has no [tool.msp-audit] table")
        doc = tool[TOOL_TABLE[1]]
        prefix = "tool.msp-audit"
        if not isinstance(doc, dict):
            raise ConfigError(f"{shown(path)}: tool.msp-audit must be a table")
    problems = list(_problems(doc, prefix))
    if problems:
        raise ConfigError("; ".join(f"{shown(path)}: {p}" for p in problems))
    return doc


def _template_ref(value: str, base: Path) -> str:
    """A bundled id stays an id; anything else is a file relative to the config file."""
    from .templates import bundled_templates

    if value in bundled_templates():
        return value
    return str(base / Path(value).expanduser())


def settings_from_config(table: dict[str, Any], base: Path) -> dict[str, Any]:
    """Config keys as ScoreSettings values, paths resolved against ``base``."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "inputs":
            value = [base / Path(p).expanduser() for p in value]
        elif key in PATH_KEYS:
            value = base / Path(value).expanduser()
        elif key == "template":
            value = _template_ref(value, base)
        elif key == "gates":
            value = list(value)
        elif key == "fail_under":
            value = float(value)
        values[RENAMED.get(key, key)] = value
    return values


def resolve_score_settings(
    cli_values: dict[str, Any], config: Path | None, isolated: bool, cwd: Path
) -> ScoreSettings:
    """Defaults, then the config file (named, or the nearest one), then the flags actually given.

    ``cli_values`` holds None for a flag not given. ``isolated`` ignores every config file.
    """
    if isolated and config is not None:
        raise UsageError("--config and --isolated cannot be used together")
    path: Path | None = None
    if config is not None:
        path = config if config.is_absolute() else cwd / config
    elif not isolated:
        path = discover_config(cwd)
    settings = ScoreSettings()
    if path is not None:
        settings.update(settings_from_config(read_config(path), path.resolve().parent))
        settings.config = path
    return settings.update(cli_values)
