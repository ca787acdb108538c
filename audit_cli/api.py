"""The library's front door: ``run_audit(paths, template, options, on_progress)``.

Finds the case files, reads each one (a failure rejects that file only),
scores every case and aggregates the run. The CLI is a thin layer over this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

from . import __version__
from .aggregate import Aggregator
from .errors import ReadError
from .model import Case, CaseResult, InputRecord, Issue, Template
from .outputs import OUTPUT_MARKER
from .readers import READERS, UNSUPPORTED_NOTES, read_bytes
from .scoring import score_case
from .store import CaseStore, case_line
from .values import clean_text

if TYPE_CHECKING:
    from .writers.aggregate_workbook import CaseRows

MAX_FILE_BYTES = 50 * 1024 * 1024
SCHEMA_VERSION = 1


class CaseWriter(Protocol):
    """Writes each case's own output as it is scored (``writers.case_workbook.CaseWorkbooks``).

    ``draft`` runs in whichever process scored the case and writes under a temporary
    name; ``place`` runs in the main process, in results order, and gives the final name.
    A writer may also have ``prepare()``, called before worker processes are started, and
    ``replace(draft, placed)``, which puts a later draft in the place of a placed one: a
    case whose reference was already read is drafted again, after the run, so that its
    output shows that warning too (a writer without it keeps the first draft).
    """

    def draft(self, case: Case, result: CaseResult, tag: str) -> Path: ...

    def place(self, draft: Path, case_id: str) -> Path: ...


@dataclass
class RunOptions:
    out_dir: Path | None = None  # never read as input
    label: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    pseudonymise_key: bytes | None = None  # case ids become keyed hashes (privacy.pseudonym)
    jobs: int = 1  # worker processes; 1 reads in this process
    case_writer: CaseWriter | None = None  # picklable: it travels to the workers
    #: make the board workbook's pass over the cases as they are scored (``AuditReport.board``),
    #: so writing the workbook reads no case back; needs ``out_dir`` (it spools there)
    board_rows: bool = False


@dataclass
class FileOutcome:
    record: InputRecord
    cases: list[Case] = field(default_factory=list)
    results: list[CaseResult] = field(default_factory=list)


Progress = Callable[[InputRecord, int, int], None]  # the file just done, files done, files total
CaseSink = Callable[[Case, CaseResult], None]


@dataclass
class AuditReport:
    """A whole run as data. ``to_dict()`` is the results.json document."""

    template: Template
    inputs: list[InputRecord]
    cases: CaseStore | list[dict[str, Any]]  # iterate it; a large run keeps it on disk
    aggregate: dict[str, Any]
    label: str | None = None
    generated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. gates, added by the caller
    case_errors: int | None = None  # counted as cases arrive, so nothing re-reads them
    case_warnings: int | None = None  # likewise
    #: every error as one full line for the terminal (with the case text it quotes, which
    #: results.json withholds)
    error_lines: list[str] = field(default_factory=list)
    #: the board workbook's pass over the cases (``writers.aggregate_workbook.CaseDigest``), made
    #: during the run with ``RunOptions.board_rows``; the caller closes it
    board: Any = None

    @property
    def rejected(self) -> list[InputRecord]:
        return [i for i in self.inputs if i.status == "rejected"]

    @property
    def error_count(self) -> int:
        case_errors = self.case_errors if self.case_errors is not None else sum(
            1 for c in self.cases for i in c["issues"] if i["severity"] == "error")
        file_errors = sum(1 for r in self.inputs for i in r.issues if i.severity == "error")
        return case_errors + file_errors

    @property
    def has_findings(self) -> bool:
        """Exit code 1 material (gates aside): a rejected file or an error in a case."""
        return bool(self.rejected) or self.error_count > 0

    def to_dict(self, stream: bool = False) -> dict[str, Any]:
        """The results.json document. ``stream=True`` leaves ``cases`` as the run's ``CaseStore``
        (read from disk as it is iterated) instead of a list in memory: for large runs."""
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "msp-audit", "version": __version__},
            "template": {"id": self.template.id, "version": self.template.version, "title": self.template.title},
            "run": {"label": self.label, "generated": self.generated},
            "inputs": [i.to_dict() for i in self.inputs],
            "cases": self.cases if stream or isinstance(self.cases, list) else list(self.cases),
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
    absolute = Path(os.path.abspath(path))  # symlinks are never followed into, so no resolve() per file
    try:
        shown = absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        shown = absolute.as_posix()
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

    def consider(p: Path, explicit: bool, rp: Path | None = None) -> None:
        rp = rp or p.resolve()
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

    def walk(folder: Path) -> Iterator[tuple[Path, Path]]:
        """(file, its resolved path) under ``folder``; one scandir and one resolve per folder, not per file."""
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        if any(e.name == OUTPUT_MARKER for e in entries):
            return
        real = folder.resolve()
        for e in entries:
            if _is_hidden_or_lock(e.name) or e.is_symlink():
                continue
            if e.is_dir(follow_symlinks=False):
                if out is not None and real / e.name == out:
                    continue
                yield from walk(folder / e.name)
            elif e.is_file(follow_symlinks=False):
                yield folder / e.name, real / e.name  # not a symlink: resolves beside its folder

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f, rf in walk(p):
                consider(f, explicit=False, rp=rf)
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


@dataclass
class _Done:
    """One file's outcome as it travels back from a worker: small; no evidence, comments or notes.

    Each case arrives as its results.json line, already encoded in the worker, and already
    counted in the aggregate: the first ``_Done`` of a worker's chunk carries the chunk's
    partial ``Aggregator``. So the main process (the one part of a run that is not parallel)
    decodes no case, except one whose reference was already read.
    """

    record: InputRecord
    lines: list[bytes]  # each case's result as one line of compact JSON
    ids: list[tuple[str, str]]  # each case's (id, source) as its line has them
    warnings: list[int]  # each case's number of warnings
    errors: list[list[str]]  # each case's error lines for the terminal (with the text they quote)
    real_ids: list[tuple[str, str | None]]  # (case id as read, location): the duplicate check
    drafts: list[Path | None]
    board: list[tuple[Any, list[list[Any]]]] | None  # each case's Cases row and issue rows (board_rows)
    aggregate: Aggregator | None = None  # the chunk's cases, aggregated in the worker
    cases: list[Case] | None = None  # only in-process, for ``on_case``
    results: list[CaseResult] | None = None  # likewise


def _encode(case: dict[str, Any]) -> bytes:
    """A case result as its line of results.json, as bytes."""
    return case_line(case).encode("utf-8")


def _work_file(index: int, path: Path, template: Template, options: RunOptions, agg: Aggregator,
               keep_cases: bool) -> _Done:
    """Read and score one file, write its cases' drafts, and add its cases to ``agg``. With
    ``keep_cases`` (in the main process) the cases are kept instead of drafted: the run drafts
    each once it has checked its reference, so a duplicate's is drafted once, warning included."""
    outcome = process_file(path, template, options.max_file_bytes)
    real_ids = [(c.id, c.location) for c in outcome.cases]
    drafts: list[Path | None] = []
    for k, (case, result) in enumerate(zip(outcome.cases, outcome.results)):
        if options.pseudonymise_key is not None:
            _pseudonymise(result, outcome.record, options.pseudonymise_key)
        drafts.append(options.case_writer.draft(case, result, f"{index}-{k}")
                      if options.case_writer and not keep_cases else None)
    lines: list[bytes] = []
    maker = _case_rows(template) if options.board_rows else None
    board_rows: list[tuple[Any, list[list[Any]]]] | None = [] if maker is not None else None
    for r in outcome.results:
        d = r.to_dict()
        lines.append(_encode(d))
        agg.add(d)
        if maker is not None and board_rows is not None:
            board_rows.append((maker.case_row(d), maker.issue_rows(d)))
    return _Done(outcome.record, lines, [(r.id, r.source) for r in outcome.results],
                 [sum(1 for i in r.issues if i.severity == "warning") for r in outcome.results],
                 [[i.line(r.source) for i in r.issues if i.severity == "error"] for r in outcome.results],
                 real_ids, drafts, board_rows, None,
                 outcome.cases if keep_cases else None, outcome.results if keep_cases else None)


def _case_rows(template: Template) -> CaseRows:
    """The board workbook's ``CaseRows`` for the template (imported only for a run that makes them)."""
    from .writers.aggregate_workbook import case_rows_for

    return case_rows_for(template)


_WORKER: tuple[Template, RunOptions] | None = None


def _init_worker(template: Template, options: RunOptions) -> None:
    global _WORKER
    _WORKER = (template, options)


def _work_chunk(chunk: list[tuple[int, Path]]) -> list[_Done]:
    assert _WORKER is not None
    template, options = _WORKER
    agg = Aggregator(template)
    done = [_work_file(i, p, template, options, agg, keep_cases=False) for i, p in chunk]
    if done:
        done[0].aggregate = agg
    return done


def _crashed(path: Path) -> _Done:
    record = InputRecord(display_path(path), None, "rejected",
                         error="the reader process stopped while reading this file (crashed or ran out of memory)")
    return _Done(record, [], [], [], [], [], [], [])


def _pool(jobs: int, template: Template, options: RunOptions) -> Any:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(template, options))


def _pooled(files: list[Path], template: Template, options: RunOptions, jobs: int) -> Iterator[_Done]:
    """Files read by ``jobs`` worker processes, yielded in input order.

    Chunked so a worker's start-up and each round trip are paid once per few files; a
    bounded window of chunks in flight keeps memory flat. If a worker dies (a crash or
    the kernel's out-of-memory killer), the chunk at the head of the window is rerun
    one file at a time in a fresh process, so the file that kills it is rejected and
    the rest of the run goes on.
    """
    from collections import deque
    from concurrent.futures.process import BrokenProcessPool

    _prepare(files, template, options)
    size = max(1, min(16, len(files) // (jobs * 8)))
    numbered = list(enumerate(files))
    chunks = [numbered[i:i + size] for i in range(0, len(numbered), size)]
    pos = 0
    while pos < len(chunks):
        broken = False
        with _pool(jobs, template, options) as pool:
            window: deque[Any] = deque()
            while pos < len(chunks):
                try:
                    while len(window) < jobs * 3 and pos + len(window) < len(chunks):
                        window.append(pool.submit(_work_chunk, chunks[pos + len(window)]))
                    done = window[0].result()
                except BrokenProcessPool:  # from result(), or from submit() once a worker has died
                    broken = True
                    break
                window.popleft()
                pos += 1
                yield from done
        if broken:
            for i, path in chunks[pos]:
                yield _isolated(i, path, template, options)
            pos += 1


def _prepare(files: list[Path], template: Template, options: RunOptions) -> None:
    """Before the workers are forked: import the readers the files need and work out what
    every case of the template shares, once, here; each forked worker inherits them instead
    of importing and working them out again."""
    from .readers.common import index_for
    from .scoring import plan_for

    for suffix in {p.suffix.lower() for p in files}:
        if suffix in READERS:
            importlib.import_module(f"{__package__}.readers.{READERS[suffix]}")
    index_for(template)
    plan_for(template)
    template.all_dimensions()
    if options.board_rows:
        _case_rows(template)
    prepare = getattr(options.case_writer, "prepare", None)
    if prepare is not None:
        prepare()


def _isolated(index: int, path: Path, template: Template, options: RunOptions) -> _Done:
    from concurrent.futures.process import BrokenProcessPool

    with _pool(1, template, options) as pool:
        try:
            result: list[_Done] = pool.submit(_work_chunk, [(index, path)]).result()
            return result[0]
        except BrokenProcessPool:
            return _crashed(path)


def run_audit(
    paths: Iterable[str | Path],
    template: Template,
    options: RunOptions | None = None,
    on_progress: Progress | None = None,
    on_case: CaseSink | None = None,
) -> AuditReport:
    """Read, score and aggregate every case file under ``paths``.

    With ``options.jobs`` > 1 the files are read by worker processes; results come back
    in input order, so the output is the same whatever the number of workers. Each
    case's result is folded into the aggregate as it arrives: memory grows only by a
    small summary per case. ``on_case`` sees every (case, result) pair, and needs
    ``jobs == 1`` (cases, with their free text, never leave a worker).
    """
    options = options or RunOptions()
    files, skipped = discover(paths, options.out_dir)
    jobs = max(1, min(options.jobs, len(files) // 4 or 1))  # a few files are not worth a pool
    if on_case is not None and jobs > 1:
        raise ValueError("on_case needs jobs=1: cases never leave their worker process")
    agg = Aggregator(template)
    stream: Iterable[_Done] = (
        _pooled(files, template, options, jobs) if jobs > 1
        # in this process a file's cases are kept while its results are taken in (a duplicate's
        # workbook is drafted again from them), then dropped
        else (_work_file(i, p, template, options, agg, keep_cases=on_case is not None or options.case_writer is not None)
              for i, p in enumerate(files))
    )
    inputs: list[InputRecord] = []
    cases = CaseStore(options.out_dir)
    board = None
    if options.board_rows and options.out_dir is not None and options.out_dir.is_dir():
        from .writers.aggregate_workbook import CaseDigest

        board = CaseDigest(template, options.out_dir)
    case_errors = case_warnings = 0
    seen_ids: dict[str, str] = {}
    redrafts: list[_Redraft] = []  # duplicates whose workbooks a worker drafted before the duplicate was seen
    error_lines: list[str] = []
    for n, done in enumerate(stream, 1):
        if done.aggregate is not None:
            agg.merge(done.aggregate)
        inputs.append(done.record)
        error_lines += [i.line(done.record.path) for i in done.record.issues if i.severity == "error"]
        for k, line in enumerate(done.lines):
            case_id, source = done.ids[k]
            real_id, location = done.real_ids[k]
            first = seen_ids.get(real_id)
            dup = None
            if first is not None:
                dup = Issue("warning", "duplicate-case", f"case reference {case_id!r} was already read from {first}",
                            location)
                d = json.loads(line)  # the stored line must carry the warning too
                d["issues"].append(dup.to_dict())
                line = _encode(d)
                if done.board is not None:  # and so must the board's rows of its issues
                    done.board[k] = (done.board[k][0], _case_rows(template).issue_rows(d))
                case_warnings += 1
                if done.results is not None:
                    done.results[k].issues.append(dup)
            else:
                seen_ids[real_id] = source + (f" {location}" if location else "")
            draft = done.drafts[k]  # a worker's, drafted before this check
            if options.case_writer is not None:
                by_worker = draft is not None
                if draft is None and done.cases is not None and done.results is not None:  # read in this process
                    draft = options.case_writer.draft(done.cases[k], done.results[k], f"{n - 1}-{k}")
                if draft is not None:
                    placed = options.case_writer.place(draft, case_id)
                    if by_worker and dup is not None:  # drafted without the warning: again, after the run
                        redrafts.append(_Redraft(files[n - 1], n - 1, done.record.sha256, k,
                                                 hashlib.sha256(line).digest(), dup, placed))
            if on_case is not None and done.cases is not None and done.results is not None:
                on_case(done.cases[k], done.results[k])
            cases.append_line(line)
            if board is not None and done.board is not None:
                board.add(case_id, source, done.board[k][1], done.board[k][0])
            case_errors += len(done.errors[k])
            case_warnings += done.warnings[k]
            error_lines += done.errors[k]
        if on_progress is not None:
            on_progress(done.record, n, len(files))
    if redrafts and options.case_writer is not None:
        _redraft_all(redrafts, template, options, jobs)
    inputs.extend(skipped)
    return AuditReport(template, inputs, cases, agg.to_dict(), label=options.label, generated=now_iso(),
                       case_errors=case_errors, case_warnings=case_warnings, error_lines=error_lines, board=board)


@dataclass
class _Redraft:
    """A duplicate's workbook to draft again: which file and case, as first read."""

    path: Path
    index: int  # the file's number in the run
    sha256: str | None  # the file's, as first read
    k: int  # the case's number in the file
    line_sha: bytes  # sha256 of the case's stored results.json line, warning included
    dup: Issue
    placed: Path  # the workbook placed for it, to be replaced


def _redraft_all(redrafts: list[_Redraft], template: Template, options: RunOptions, jobs: int) -> None:
    """After a run with ``jobs`` workers: draft again, with its duplicate-case warning, each
    workbook that a worker drafted before the main process saw its case reference a second
    time, so the workbook's Issues sheet and Summary say what results.json says. (In one
    process a case is drafted only once its reference is checked: nothing to draft again.)
    Worker processes do it, as they did the first drafts, so the main process parses no input
    file: each file is read again once, however many of its cases repeat, and each new draft
    replaces the placed workbook under its name. A file that changed since it was read, or a
    worker that dies, leaves the first drafts in place."""
    replace = getattr(options.case_writer, "replace", None)
    if replace is None:
        return
    by_file: dict[int, list[_Redraft]] = {}
    for item in redrafts:
        by_file.setdefault(item.index, []).append(item)
    groups = list(by_file.values())
    from concurrent.futures.process import BrokenProcessPool

    with _pool(min(jobs, len(groups)), template, options) as pool:
        futures = [pool.submit(_redraft_chunk, group) for group in groups]
        for future in futures:
            try:
                done = future.result()
            except BrokenProcessPool:
                continue
            for draft, placed in done:
                replace(draft, placed)


def _redraft_chunk(group: list[_Redraft]) -> list[tuple[Path, Path]]:
    assert _WORKER is not None
    return _redraft_file(group, *_WORKER)


def _redraft_file(group: list[_Redraft], template: Template, options: RunOptions) -> list[tuple[Path, Path]]:
    """One file's duplicates drafted again: (new draft, the workbook it replaces) for each case
    that reads back exactly as stored, none if the file's bytes are not those first read."""
    first = group[0]
    outcome = process_file(first.path, template, options.max_file_bytes)
    if outcome.record.sha256 != first.sha256 or options.case_writer is None:
        return []
    out: list[tuple[Path, Path]] = []
    for item in group:
        if item.k >= len(outcome.results):
            continue
        case, result = outcome.cases[item.k], outcome.results[item.k]
        if options.pseudonymise_key is not None:
            _pseudonymise(result, outcome.record, options.pseudonymise_key)
        result.issues.append(item.dup)
        if hashlib.sha256(_encode(result.to_dict())).digest() != item.line_sha:
            continue
        out.append((options.case_writer.draft(case, result, f"again-{item.index}-{item.k}"), item.placed))
    return out


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
