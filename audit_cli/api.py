"""The library's front door: ``run_audit(paths, template, options, on_progress)``.

Finds the case files, reads each one (a failure rejects that file only),
scores every case and aggregates the run. The CLI is a thin layer over this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import __version__
from .aggregate import Aggregator
from .errors import ReadError
from .model import Case, CaseResult, InputRecord, Issue, Template
from .readers import READERS, UNSUPPORTED_NOTES, read_bytes
from .scoring import score_case
from .values import clean_text

#: a file in a folder marks it as msp-audit output, never read as input
OUTPUT_MARKER = ".msp-audit-output"
MAX_FILE_BYTES = 50 * 1024 * 1024
SCHEMA_VERSION = 1


@dataclass
class RunOptions:
    out_dir: Path | None = None  # never read as input
    label: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    pseudonymise_key: bytes | None = None  # case ids become keyed hashes (privacy.pseudonym)


@dataclass
class FileOutcome:
    record: InputRecord
    cases: list[Case] = field(default_factory=list)
    results: list[CaseResult] = field(default_factory=list)


Progress = Callable[[FileOutcome, int, int], None]  # outcome, files done, files total
CaseSink = Callable[[Case, CaseResult], None]


@dataclass
class AuditReport:
    """A whole run as data. ``to_dict()`` is the results.json document."""

    template: Template
    inputs: list[InputRecord]
    cases: list[dict[str, Any]]
    aggregate: dict[str, Any]
    label: str | None = None
    generated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. gates, added by the caller

    @property
    def rejected(self) -> list[InputRecord]:
        return [i for i in self.inputs if i.status == "rejected"]

    @property
    def error_count(self) -> int:
        case_errors = sum(1 for c in self.cases for i in c["issues"] if i["severity"] == "error")
        file_errors = sum(1 for r in self.inputs for i in r.issues if i.severity == "error")
        return case_errors + file_errors

    @property
    def has_findings(self) -> bool:
        """Exit code 1 material (gates aside): a rejected file or an error in a case."""
        return bool(self.rejected) or self.error_count > 0

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "msp-audit", "version": __version__},
            "template": {"id": self.template.id, "version": self.template.version, "title": self.template.title},
            "run": {"label": self.label, "generated": self.generated},
            "inputs": [i.to_dict() for i in self.inputs],
            "cases": self.cases,
            "aggregate": self.aggregate,
            "rejected": [{"path": i.path, "error": i.error} for i in self.rejected],
        }
        doc.update(self.extra)
        return doc


def display_path(path: Path) -> str:
    """How a file is named in outputs: relative to the working folder when inside it.

    A name that is not valid UTF-8 on disk (a Latin-1 name from an old share) or holds
    control characters is shown with replacement characters, so it can be written to
    results.json and printed as one line."""
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = path.resolve().as_posix()
    shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("\ufffd" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in shown)


def _is_hidden_or_lock(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def discover(paths: Iterable[str | Path], out_dir: Path | None = None) -> tuple[list[Path], list[InputRecord]]:
    """Case files under ``paths`` (folders recursively, sorted), and the files skipped with a note.

    Hidden files, Office lock files (``~$*``), the output folder and any folder
    holding msp-audit output are never read.
    """
    found: list[Path] = []
    skipped: list[InputRecord] = []
    seen: set[Path] = set()
    out = out_dir.resolve() if out_dir is not None else None

    def consider(p: Path, explicit: bool) -> None:
        rp = p.resolve()
        if rp in seen:
            return
        seen.add(rp)
        if not explicit and _is_hidden_or_lock(p.name):
            return
        if p.name.startswith("~$"):
            return
        suffix = p.suffix.lower()
        if suffix in READERS:
            found.append(p)
        elif suffix in UNSUPPORTED_NOTES or explicit:
            note = UNSUPPORTED_NOTES.get(suffix, f"{suffix or 'no suffix'}: not a case file type msp-audit reads")
            skipped.append(InputRecord(display_path(p), None, "skipped", note=note))
        else:
            skipped.append(InputRecord(display_path(p), None, "skipped", note=f"{suffix or 'no suffix'}: not read"))

    def walk(folder: Path) -> Iterator[Path]:
        try:
            entries = sorted(folder.iterdir(), key=lambda e: e.name)
        except OSError:
            return
        if any(e.name == OUTPUT_MARKER for e in entries):
            return
        for e in entries:
            if _is_hidden_or_lock(e.name) or e.is_symlink():
                continue
            if out is not None and e.resolve() == out:
                continue
            if e.is_dir():
                yield from walk(e)
            elif e.is_file():
                yield e

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in walk(p):
                consider(f, explicit=False)
        elif p.is_file():
            consider(p, explicit=True)
        else:
            skipped.append(InputRecord(display_path(p), None, "skipped", note="no such file or folder"))
    return found, skipped


def process_file(path: Path, template: Template, max_bytes: int = MAX_FILE_BYTES) -> FileOutcome:
    """Read and score one file. Never raises for a bad file: it becomes a rejection."""
    shown = display_path(path)
    try:
        # Non-blocking and checked after opening: a FIFO or device put where a file was found
        # is refused instead of hanging the run, and the size is the opened file's own.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise ReadError("not a regular file")
            if st.st_size > max_bytes:
                raise ReadError(f"file is {st.st_size / 1048576:.1f} MB, over the "
                                f"{max_bytes / 1048576:.0f} MB limit")
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ReadError(f"file is over the {max_bytes / 1048576:.0f} MB limit")
    except ReadError as exc:
        return FileOutcome(InputRecord(shown, None, "rejected", error=str(exc)))
    except OSError as exc:
        return FileOutcome(InputRecord(shown, None, "rejected", error=f"cannot read: {exc.strerror or exc}"))
    digest = hashlib.sha256(data).hexdigest()
    try:
        read = read_bytes(data, path.suffix, template, shown)
        results = [score_case(template, c) for c in read.cases]
    except ReadError as exc:
        return FileOutcome(InputRecord(shown, digest, "rejected", error=one_line(str(exc))))
    except RecursionError:
        return FileOutcome(InputRecord(shown, digest, "rejected", error="structure is nested too deeply"))
    except MemoryError:
        return FileOutcome(InputRecord(shown, digest, "rejected", error="file needs too much memory to read"))
    except Exception as exc:  # a reader bug or a file no check foresaw: reject this file, keep going
        # Only the exception's type: its text may quote a cell of the case.
        return FileOutcome(InputRecord(shown, digest, "rejected", error=(
            f"cannot be read (unexpected {type(exc).__name__} in the {path.suffix.lower().lstrip('.')} reader; "
            "please report it)")))
    record = InputRecord(shown, digest, "read", cases=len(read.cases), issues=read.issues)
    return FileOutcome(record, read.cases, results)


def one_line(text: str, limit: int = 300) -> str:
    """A rejection reason as one bounded line that every writer can store."""
    t = " ".join(clean_text(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def now_iso() -> str:
    """The run's timestamp; SOURCE_DATE_EPOCH pins it for reproducible outputs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).isoformat(timespec="seconds")
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_audit(
    paths: Iterable[str | Path],
    template: Template,
    options: RunOptions | None = None,
    on_progress: Progress | None = None,
    on_case: CaseSink | None = None,
) -> AuditReport:
    """Read, score and aggregate every case file under ``paths``."""
    options = options or RunOptions()
    files, skipped = discover(paths, options.out_dir)
    inputs: list[InputRecord] = []
    cases: list[dict[str, Any]] = []
    agg = Aggregator(template)
    seen_ids: dict[str, str] = {}
    for n, path in enumerate(files, 1):
        outcome = process_file(path, template, options.max_file_bytes)
        inputs.append(outcome.record)
        for case, result in zip(outcome.cases, outcome.results):
            # the duplicate check is on the real id; messages quote what the outputs show
            if options.pseudonymise_key is not None:
                _pseudonymise(result, outcome.record, options.pseudonymise_key)
            first = seen_ids.get(case.id)
            if first is not None:
                result.issues.append(Issue("warning", "duplicate-case",
                                           f"case reference {result.id!r} was already read from {first}",
                                           case.location))
            else:
                seen_ids[case.id] = result.source + (f" {case.location}" if case.location else "")
            if on_case is not None:
                on_case(case, result)
            d = result.to_dict()
            cases.append(d)
            agg.add(d)
        if on_progress is not None:
            on_progress(outcome, n, len(files))
    inputs.extend(skipped)
    return AuditReport(template, inputs, cases, agg.to_dict(), label=options.label, generated=now_iso())


def _pseudonymise(result: CaseResult, record: InputRecord, key: bytes) -> None:
    """Replace the case id with its keyed pseudonym, also where a message or the file's own
    name quotes it (forms are often saved under their case reference)."""
    from .privacy import pseudonym, scrub

    real = result.id
    alias = pseudonym(real, key)
    result.id = alias
    result.source = scrub(result.source, real, alias) or result.source
    record.path = scrub(record.path, real, alias) or record.path
    # New Issue objects: the case itself (shown to its auditor) keeps the real reference.
    result.issues = [Issue(i.severity, i.code, scrub(i.message, real, alias) or i.message, i.location)
                     for i in result.issues]
