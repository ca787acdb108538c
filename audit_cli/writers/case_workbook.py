"""``cases/<case id>.xlsx``: one case's audit, for the auditor and their manager.

Unlike the board's workbook this one carries the case's own words (evidence,
comments, notes), because that is what a practitioner reviews; personal fields
are still left out. It renders a ``CaseResult``; it never recomputes a score.

A run writes one of these per case, thousands of them, so it is written with
``xlsx_lite`` rather than xlsxwriter, and everything one template's workbooks share
(styles, fixed text, the rows' fixed columns) is worked out once per process.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Hashable
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..model import Case, CaseResult, Criterion, CriterionResult, Template
from ..outputs import OUTPUT_MARKER, atomic_write_bytes, inside, safe_name
from .xlsx_lite import (
    MAX_COLS,
    FrozenTable,
    Properties,
    Run,
    SafeStyles,
    SharedStrings,
    Sheet,
    StyleSheet,
    Workbook,
)
from .xlsx_safe import (
    ATTAINMENT,
    HEADER_CAP,
    SCORE,
    TONES,
    attainment_tone,
    band_tones,
    created_at,
    display,
)

Cells = list[tuple[int, Any, int | None]]  # (column, value, style) of one row

STATUS_TEXT = {
    "scored": "Scored",
    "excluded": "Excluded",
    "unanswered": "Unanswered",
    "not_applicable": "Not applicable (rule)",
}
NOT_RATED = "Not rated"
HEADERS = {
    "criteria": [
        "Section", "ID", "Question", "Answer", "Status", "Points", "Max", "Weight", "Critical",
        "Attainment", "Evidence", "Comment", "Location",
    ],
    "dimensions": ["Dimension", "Item", "Title", 'Group / "I" statement', "Score", "Band"],
    "issues": ["Severity", "Code", "Message", "Location"],
    "notes": ["Notes"],
    "fields": ["Field", "Value"],
}
#: the Summary sheet's labels and other fixed text, entered in the template's string table up front
SUMMARY_LABELS = [
    "Pseudonym in shared outputs", "Source file", "Location in file", "Template", "Template title", "Score",
    "Rating", "Critical failures", "Agrees with the computed rating", "Criteria scored",
    "Criteria excluded (N/A, unable to determine)", "Criteria unanswered", "Criteria not applicable by rule",
    "Errors", "Warnings",
]
SUMMARY_TEXT = ["Case fields", NOT_RATED, "None", "Not given", "Yes", "No"]


def write_case_workbook(
    template: Template, case: Case, result: CaseResult, path: Path, *, generated: str | None = None
) -> None:
    """Write one case's workbook atomically; ``generated`` (ISO time) pins the file's creation date."""
    atomic_write_bytes(path, _workbook(template, case, result, generated).to_bytes())


def _workbook(template: Template, case: Case, result: CaseResult, generated: str | None) -> Workbook:
    look, layout = _look(), _layout(template)
    wb = Workbook(look.sheet, strings=layout.strings.fork(),
                  properties=Properties(title=f"Case audit {case.id}", created=created_at(generated)))
    _summary(wb, look, layout, template, case, result)
    _criteria(wb, look, layout, case, result)
    _dimensions(wb, look, layout, template, result)
    _issues(wb, look, layout, result)
    if case.notes:
        _notes(wb, look, layout, case.notes)
    return wb


class CaseWorkbooks:
    """Each case's workbook, written as the case is scored (in whichever process scored it).

    Two steps, so parallel workers never race for a name: ``draft`` writes the workbook
    under a hidden temporary name, and ``place`` (in the main process, in results order)
    renames it to ``cases/<safe case id>.xlsx`` with ``outputs.safe_name`` and one ``used``
    set per run, so names are the same every run whatever the number of workers.
    """

    def __init__(self, template: Template, out_dir: Path, *, folder: str = "cases", generated: str | None = None) -> None:
        self.template = template
        self.out_dir = out_dir
        self.folder = folder
        self.generated = generated
        self.used: set[str] = set()
        self.written: list[Path] = []
        #: (process, cases folder resolved and checked, its device and inode)
        self._checked: tuple[int, Path, tuple[int, int]] | None = None

    def draft(self, case: Case, result: CaseResult, tag: str) -> Path:
        name = f".pending-{safe_name(tag)}.xlsx"
        data = _workbook(self.template, case, result, self.generated).to_bytes()
        # Written in place: a draft's name is already a temporary one that ``place`` renames and
        # ``cleanup`` removes if it is never placed, so a second temporary file would only cost time.
        # O_NOFOLLOW: a symlink planted under a draft's name is refused, not written through.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        path = self._folder() / name
        try:
            fd = os.open(path, flags, 0o666)  # as write_bytes: the umask decides
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
                raise AuditError(f"refusing to write through a link planted in the output folder: {path}") from None
            raise
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path

    def place(self, draft: Path, case_id: str) -> Path:
        # a rename replaces whatever has the final name (a symlink included), never what it points to
        final = self._folder() / (safe_name(case_id, self.used) + ".xlsx")
        os.replace(draft, final)
        self.written.append(final)
        return final

    def replace(self, draft: Path, placed: Path) -> None:
        """Put a later draft of a case (one drafted again with a duplicate-case warning) in the
        place of the workbook already placed for it, under the same name."""
        os.replace(draft, self._folder() / placed.name)

    def prepare(self) -> None:
        """Work out what every workbook of the template shares (styles, fixed text) now: a run
        calls this before forking its workers, so each inherits it."""
        _layout(self.template)

    def _folder(self) -> Path:
        """``cases/``, created, and checked against the output folder itself, so not even a
        symlinked ``cases/`` leads outside it. Resolving the path is done once per process;
        each later call only checks that the path still leads to the folder that was checked,
        and checks again from the start if it does not (removed, replaced, or swapped for a
        symlink during the run)."""
        pid = os.getpid()
        if self._checked is not None and self._checked[0] == pid:
            try:
                st = os.stat(self.out_dir / self.folder)
            except OSError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) == self._checked[2]:
                return self._checked[1]
        inside(self.out_dir, self.folder).mkdir(parents=True, exist_ok=True)
        folder = inside(self.out_dir, self.folder)
        st = os.stat(folder)
        self._checked = (pid, folder, (st.st_dev, st.st_ino))
        return folder

    MANIFEST = OUTPUT_MARKER  # the output folder's marker also lists the workbooks written
    _LISTED = "case workbook: "

    def start(self) -> None:
        """Remove the workbooks the previous run into this folder wrote (listed in the marker),
        so a case dropped from a round leaves no stale workbook behind. Nothing else is touched."""
        manifest = inside(self.out_dir, self.MANIFEST)
        if not manifest.is_file():
            return
        for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
            name = line[len(self._LISTED):] if line.startswith(self._LISTED) else ""
            if name and name == safe_name(name[:-5]) + ".xlsx":  # only names this writer makes
                inside(self.out_dir, self.folder, name).unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Remove drafts a run could not place (a worker that died while writing one), and list
        what this run wrote for the next run's ``start``."""
        folder = inside(self.out_dir, self.folder)
        if folder.is_dir():
            for p in folder.iterdir():
                # "..pending-": the temporary names earlier releases gave drafts, left by a crash
                if p.name.startswith((".pending-", "..pending-")) and p.is_file():
                    p.unlink(missing_ok=True)
        listed = "".join(f"{self._LISTED}{p.name}\n" for p in self.written)
        atomic_write_bytes(inside(self.out_dir, self.MANIFEST),
                           f"msp-audit output folder: never read as input\n{listed}".encode())

    def __call__(self, case: Case, result: CaseResult) -> None:
        self.place(self.draft(case, result, f"{os.getpid()}-{len(self.written)}"), result.id)


# --------------------------------------------------------------------------- shared per process


class _Look:
    """Every style the workbook uses, as indices into one style sheet made once per process.

    The styles are ``xlsx_safe.Styles``' own (through ``SafeStyles``), so a case workbook looks
    like every other workbook msp-audit writes; the sheet holds each tone in every variant
    up front, so a style's index never depends on which cases were written first.
    """

    def __init__(self) -> None:
        safe = SafeStyles()
        named = [safe.title, safe.note, safe.label, safe.wrap, safe.heading, safe.header]
        tones: list[str | None] = [None, *TONES]
        variants = {
            "plain": {t: safe.get(t) for t in tones},
            "wrapped": {t: safe.get(t, text_wrap=True) for t in tones},
            "score": {t: safe.get(t, num_format=SCORE) for t in tones},
            "score_left": {t: safe.get(t, num_format=SCORE, align="left") for t in tones},
            "attainment": {t: safe.get(t, num_format=ATTAINMENT) for t in tones},
        }
        self.sheet = StyleSheet([*named, *(s for v in variants.values() for s in v.values())])
        ix = self.sheet.index
        self.title, self.note, self.label, self.wrap, self.heading, self.header = map(ix, named)
        self.plain, self.wrapped, self.score, self.score_left, self.attainment = (
            {t: ix(s) for t, s in v.items()} for v in variants.values()
        )


@lru_cache(maxsize=1)
def _look() -> _Look:
    return _Look()


class _Layout:
    """What every case workbook of one template shares, worked out once per process: a
    frozen string table holding the template's fixed text (each workbook forks it), and
    ``Run``-s for the cells that follow from the template alone."""

    def __init__(self, template: Template, look: _Look) -> None:
        self.strings = SharedStrings()
        self.sheet = look.sheet
        self._runs: dict[Hashable, Run | None] = {}
        self.headers = {name: self._run([(col, label, look.header) for col, label in enumerate(labels)], HEADER_CAP)
                        for name, labels in HEADERS.items()}
        self.criteria: list[tuple[Criterion, Cells, Run]] = []
        for section in template.sections:
            for crit in section.criteria:
                cells = [(0, section.title, look.wrap), (1, crit.id, None), (2, crit.text, look.wrap)]
                self.criteria.append((crit, cells, self._run(cells)))
        self.dimensions = [
            (dim_id, item.id, self._run([(0, dim.title, None), (1, item.id, None), (2, item.title, look.wrap),
                                         (3, item.statement or item.group or item.description, look.wrap)]))
            for dim_id, dim in template.all_dimensions().items() for item in dim.items
        ]
        self.fields = [(f.id, f.label) for f in template.case_fields
                       if not f.personal and f.role not in ("identifier", "judgement")]
        self.labels = {(cid, o.value): o.label for cid in template.criteria for o in template.scale_of(cid).options}
        self.tones = band_tones([b.label for b in template.bands])
        self.bands = {band: self._run([(5, band or "Not scored", look.plain[self.tones.get(band) if band else None])])
                      for band in [*self.tones, None]}
        judge = template.judgement
        labels = [template.identifier.label, *SUMMARY_LABELS, *([judge.label] if judge else []),
                  *(label for _, label in self.fields)]
        self.label_runs = {label: self._run([(0, label, look.label)]) for label in labels}
        for text in (template.title, *SUMMARY_TEXT, *STATUS_TEXT.values(), "Critical", *self.labels.values()):
            self.strings.add(text)
        self.strings.freeze()  # from here on the table, and so every file, is the same whatever came first

    def _run(self, cells: Cells, cap: int = MAX_COLS) -> Run:
        return Run(self.strings, self.sheet, cells, cap=cap)

    def cached_run(self, key: Hashable, cells: Callable[[], Cells]) -> Run | None:
        """A run made from ``cells()`` on first use; None when its text is not all in the
        table, and then the caller puts the cells one by one (the same file, only slower)."""
        if key not in self._runs:
            try:
                self._runs[key] = self._run(cells())
            except FrozenTable:
                self._runs[key] = None
        return self._runs[key]


def _layout(template: Template) -> _Layout:
    """The template's layout, worked out once and kept with the template."""
    return template.derived("case_workbook_layout", lambda t: _Layout(t, _look()))


# --------------------------------------------------------------------------- sheets


def _finish(sh: Sheet, *, freeze: tuple[int, int], landscape: bool = False) -> None:
    """As ``SheetWriter.finish``: the frozen header rows are printed on every page too, and a
    wide sheet prints landscape, one page wide."""
    sh.freeze(*freeze)
    sh.page.repeat_rows = freeze[0]
    sh.page.landscape = sh.page.fit_width = landscape


def _summary(wb: Workbook, look: _Look, layout: _Layout, template: Template, case: Case, result: CaseResult) -> None:
    sh = wb.add_sheet("Summary")
    sh.column(0, 42)
    sh.column(1, 70, look.wrap)
    tones = layout.tones
    rating_tone = tones.get(result.rating) if result.rating else None
    sh.put(0, 0, f"Case audit: {case.id}", look.title)
    sh.put(1, 0, template.title, look.note)
    statuses = [c.status for c in result.criteria.values()]
    rows: list[tuple[str, Any, int | None]] = [(template.identifier.label, case.id, None)]
    if result.id != case.id:  # pseudonymised run: the shared outputs know the case by this
        rows.append(("Pseudonym in shared outputs", result.id, None))
    rows.append(("Source file", result.source, None))
    if result.location:
        rows.append(("Location in file", result.location, None))
    rows += [
        ("Template", f"{template.id} {template.version}", None),
        ("Template title", template.title, look.wrap),
        ("Score", result.score if result.score is not None else NOT_RATED, look.score_left[rating_tone]),
        ("Rating", result.rating or NOT_RATED, look.plain[rating_tone]),
        ("Critical failures", ", ".join(result.critical_failures) or "None",
         look.plain["red"] if result.critical_failures else None),
    ]
    judge = template.judgement
    if judge is not None and not judge.personal:
        rows.append((judge.label, result.judgement or "Not given", look.plain[tones.get(result.judgement or "")]))
        if result.judgement:
            agrees = result.judgement == (result.rating or NOT_RATED)
            rows.append(("Agrees with the computed rating", "Yes" if agrees else "No", None))
    rows += [
        ("Criteria scored", statuses.count("scored"), None),
        ("Criteria excluded (N/A, unable to determine)", statuses.count("excluded"), None),
        ("Criteria unanswered", statuses.count("unanswered"), None),
        ("Criteria not applicable by rule", statuses.count("not_applicable"), None),
        ("Errors", sum(1 for i in result.issues if i.severity == "error"), None),
        ("Warnings", sum(1 for i in result.issues if i.severity == "warning"), None),
    ]
    r = 3
    for label, value, style in rows:
        _label(sh, layout, r, label)
        sh.put(r, 1, value, style)
        r += 1
    sh.put(r + 1, 0, "Case fields", look.heading)
    sh.put_run(r + 2, layout.headers["fields"])
    r += 3
    for field_id, label in layout.fields:
        _label(sh, layout, r, label)
        sh.put(r, 1, display(case.fields.get(field_id)), look.wrap)
        r += 1


def _label(sh: Sheet, layout: _Layout, row: int, label: str) -> None:
    sh.put_run(row, layout.label_runs[label])  # every label the Summary shows has its run


def _answer_text(layout: _Layout, case: Case, cid: str, status: str, value: str | None) -> str:
    """The answer's label, or what was written when it matched no option."""
    if value is not None:
        label = layout.labels[cid, value]
        return f"{label} (ignored: does not apply)" if status == "not_applicable" else label
    given = case.answers.get(cid)
    if given is not None and given.raw:
        return f"{given.raw} (not a recognised answer)"
    return ""


def _graded(look: _Look, layout: _Layout, case: Case, crit: Criterion, cr: CriterionResult) -> Cells:
    """Columns D to J of a question's row: the answer, its status and how it scored."""
    att = cr.attainment
    tone = attainment_tone(att) if cr.status == "scored" else "grey"
    return [
        (3, _answer_text(layout, case, crit.id, cr.status, cr.answer), look.wrapped[tone]),
        (4, STATUS_TEXT.get(cr.status, cr.status), None), (5, cr.points, None), (6, cr.max, None),
        (7, cr.weight, None), (8, "Critical" if crit.critical else None, None), (9, att, look.attainment[tone]),
    ]


def _known_cells(look: _Look, layout: _Layout, case: Case, crit: Criterion, cr: CriterionResult,
                 fixed_cells: Cells, blank: bool) -> Cells:
    """A question's row up to its attainment, and its empty evidence and comment if ``blank``."""
    empty = [(10, None, look.wrap), (11, None, look.wrap)] if blank else []
    return [*fixed_cells, *_graded(look, layout, case, crit, cr), *empty]


def _criteria(wb: Workbook, look: _Look, layout: _Layout, case: Case, result: CaseResult) -> None:
    sh = wb.add_sheet("Criteria")
    for col, width in ((0, 18), (2, 50), (3, 16), (10, 50), (11, 40)):
        sh.column(col, width, look.wrap)
    sh.put_run(0, layout.headers["criteria"])
    r = 1
    for crit, fixed_cells, fixed in layout.criteria:
        cr = result.criteria.get(crit.id)
        if cr is None:
            continue
        given = case.answers.get(crit.id)
        evidence, comment = (given.evidence, given.comment) if given else (None, None)
        blank = not evidence and not comment  # then the two are empty cells: the same in every case
        # section to attainment follow from the template alone once the answer is recognised
        known = layout.cached_run(
            (crit.id, cr.status, cr.answer, cr.points, cr.max, cr.weight, blank),
            partial(_known_cells, look, layout, case, crit, cr, fixed_cells, blank),
        ) if cr.answer is not None else None
        if known is not None:
            sh.put_run(r, known)
        else:
            sh.put_run(r, fixed)
            for col, value, style in _graded(look, layout, case, crit, cr):
                sh.put(r, col, value, style)
        if known is None or not blank:
            sh.put_row(r, 10, (evidence, comment), (look.wrap, look.wrap))
        sh.put(r, 12, cr.location)
        r += 1
    sh.autofilter(0, 0, max(r - 1, 0), len(HEADERS["criteria"]) - 1)
    _finish(sh, freeze=(1, 2), landscape=True)


def _dimensions(wb: Workbook, look: _Look, layout: _Layout, template: Template, result: CaseResult) -> None:
    sh = wb.add_sheet("Dimensions")
    sh.column(2, 40, look.wrap)
    sh.column(3, 70, look.wrap)
    sh.put_run(0, layout.headers["dimensions"])
    r = 1
    for dim_id, item_id, fixed in layout.dimensions:
        score = result.dimensions.get(dim_id, {}).get(item_id)
        band = template.band_for(score)
        tone = layout.tones.get(band) if band else None
        sh.put_run(r, fixed)  # dimension, item, title, statement
        sh.put(r, 4, score, look.score[tone])
        sh.put_run(r, layout.bands[band])
        r += 1
    sh.autofilter(0, 0, max(r - 1, 0), len(HEADERS["dimensions"]) - 1)
    _finish(sh, freeze=(1, 0), landscape=True)


def _issues(wb: Workbook, look: _Look, layout: _Layout, result: CaseResult) -> None:
    sh = wb.add_sheet("Issues")
    sh.column(2, 80, look.wrap)
    sh.put_run(0, layout.headers["issues"])
    if not result.issues:
        sh.put(1, 0, "No issues")
    for r, issue in enumerate(result.issues, 1):
        sh.put_row(r, 0, (issue.severity, issue.code, issue.message, issue.location),
                   (look.plain["red" if issue.severity == "error" else "amber"], None, look.wrap, None))
    _finish(sh, freeze=(1, 0))


def _notes(wb: Workbook, look: _Look, layout: _Layout, notes: str) -> None:
    sh = wb.add_sheet("Notes")
    sh.column(0, 110, look.wrap)
    sh.put_run(0, layout.headers["notes"])
    for r, para in enumerate((p for p in notes.split("\n\n") if p.strip()), 1):
        sh.put(r, 0, para, look.wrap)
    _finish(sh, freeze=(1, 0))
