"""``aggregate.xlsx``: the round's figures for the Safeguarding Adults Board (SPEC sections 6 and 7).

It renders the results document (``AuditReport.to_dict()`` plus ``gates``) with
the template's titles and statements; it never recomputes a score. Nothing from
a case file's free text and no personal field is read here: only the results
document, which holds neither. Written in xlsxwriter's constant-memory mode
(every sheet top to bottom), and the cases are read once (see ``_CaseDigest``), so a
run of 10,000 cases costs little memory and little time.
"""

from __future__ import annotations

import json
import pickle
import re
import tempfile
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from ..disclosure import (
    SUPPRESSED,
    count_from_share,
    is_small,
    show_count,
    show_mean,
    show_share,
)
from ..model import Dimension, DimensionItem, Template
from ..outputs import atomic_write
from ..store import CaseStore
from .xlsx_safe import (
    ATTAINMENT,
    CHANGE,
    COUNT,
    SCORE,
    SHARE,
    SheetWriter,
    Styles,
    attainment_tone,
    band_tones,
    created_at,
    display,
    new_workbook,
    sheet_name,
)

if TYPE_CHECKING:
    from xlsxwriter.workbook import Workbook

NOT_RATED = "Not rated"
SUPPRESSION_NOTE = (
    "Small-number suppression applied: counts of people from 1 to 4 are shown as *, other counts are "
    "rounded to the nearest 5; shares are worked out from the unrounded figures and hidden where their "
    "count is, and so are means of 1 to 4 cases. The Cases sheet and the list of critical failures by "
    "case are left out. Counts of files and of data problems are shown as they are."
)
FIXED_SHEETS = (
    "Summary", "Trends", "Sections", "Criteria", "Cases", "Breakdowns",
    "Outcome measures", "Critical failures", "Data quality", "Inputs",
)


def write_aggregate_workbook(
    template: Template,
    doc: dict[str, Any],
    path: Path,
    *,
    suppress_small: bool = False,
    trends: dict[str, Any] | None = None,
    digest: CaseDigest | None = None,
) -> None:
    """Write the board workbook atomically (temporary name, then rename). ``digest``: the pass
    over ``doc``'s cases made while they were scored, if there is one (see ``CaseDigest``)."""

    def build(tmp: Path) -> None:
        wb = new_workbook(
            tmp,
            created=created_at((doc.get("run") or {}).get("generated")),
            constant_memory=True,
            title=f"MSP audit: {template.title}",
        )
        try:
            _Book(wb, template, doc, suppress_small).write(trends, spool_dir=tmp.parent, digest=digest)
        finally:
            wb.close()

    atomic_write(path, build)


def natural_key(text: str) -> list[Any]:
    """A2 before A10."""
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", text)]


def item_header(item: DimensionItem) -> str:
    """A column header for a dimension item: its title, led by its id when the title lacks it."""
    key = re.sub(r"\W", "", item.id).casefold()
    return item.title if key and key in re.sub(r"\W", "", item.title).casefold() else f"{item.id} {item.title}"


# A stored case is one line of ``json.dumps`` output whose members run id, source, location,
# score, rating, judgement, critical_failures, dimensions, criteria, fields, issues. The
# criteria, seven-tenths of the line, are all this workbook does not read.
CASE_MEMBERS = frozenset({"id", "source", "location", "score", "rating", "judgement", "critical_failures",
                          "dimensions", "fields", "issues"})
_CRITERIA, _FIELDS = ', "criteria": ', ', "fields": '


def read_case(line: str) -> dict[str, Any]:
    """A stored case's members, decoding only those before its criteria and from its fields on.

    Decoding each case's JSON is most of the workbook's time, and most of that is the
    criteria. The two pieces are decoded on their own; if both are whole JSON objects, the
    cut was made between top-level members (a match inside a string is impossible, as JSON
    escapes quotes, and one inside a nested object leaves a piece unbalanced), and if
    together they hold every member in CASE_MEMBERS, nothing this workbook reads was left
    out. Any other line, layout or surprise is decoded whole.
    """
    cut = line.find(_CRITERIA)
    resume = line.find(_FIELDS, cut)
    if cut > 0 and resume > 0:
        try:
            case = json.loads(line[:cut] + "}")
            case.update(json.loads("{" + line[resume + 2:]))
        except ValueError:
            pass
        else:
            if CASE_MEMBERS <= case.keys():
                return case
    return json.loads(line)


def cases_of(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document's cases: from a run's store as ``read_case`` reads them, else as they are."""
    cases = doc.get("cases") or []
    return map(read_case, cases.lines()) if isinstance(cases, CaseStore) else iter(cases)


class _Spool:
    """Records written once to an anonymous temporary file, then read back in order (as often
    as needed): per-case rows kept out of memory between the pass over the cases and the sheet
    that writes them. Pickle is safe here: the file is this process's own, unlinked as made."""

    def __init__(self, folder: Path) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder, prefix=".msp-audit-workbook-")
        self._count = 0

    def append(self, record: Any) -> None:
        pickle.dump(record, self._file, pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Any]:
        self._file.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


class _CaseDigest:
    """What the sheets need from the cases, gathered in one pass over them.

    Reading the cases is the dearest step of the workbook (a spooled run decodes every case's
    JSON, criteria and all, on each pass) and four sheets need them: Summary counts the issues,
    Cases lists every case, Critical failures names sources and Data quality lists the issues.
    Only the counts and the sources of cases with a critical failure stay in memory; the Cases
    rows and the issue rows go to spools on disk, so memory does not grow with the run.
    """

    def __init__(self, folder: Path) -> None:
        self.errors = 0
        self.warnings = 0
        self.sources: dict[Any, Any] = {}  # case id -> source of its first case, for "By case"
        self.rows = _Spool(folder)  # Cases sheet: (rating tone, cell values) per case
        self.issues = _Spool(folder)  # Data quality: one row per issue of a case

    def add(self, case_id: Any, source: Any, issue_rows: list[list[Any]], row: tuple[str | None, list[Any]] | None,
            *, keep_source: bool = True) -> None:
        """One case: its issues' rows, its source if wanted, its Cases row unless None."""
        for issue in issue_rows:
            if issue[0] == "error":
                self.errors += 1
            elif issue[0] == "warning":
                self.warnings += 1
            self.issues.append(issue)
        if keep_source:
            self.sources.setdefault(case_id, source)
        if row is not None:
            self.rows.append(row)

    def close(self) -> None:
        self.rows.close()
        self.issues.close()


class CaseRows:
    """What one case adds to the workbook, worked out from its results.json form and the
    template alone: its row on the Cases sheet and its issues' rows on Data quality.

    ``breakdowns``: the fields the document's aggregate breaks down by (the workbook lists
    those); by default every breakdown field of the template, as a run's aggregate has them.
    """

    def __init__(self, template: Template, breakdowns: Iterable[str] | None = None) -> None:
        judgement = template.judgement
        self.judge = judgement if judgement is not None and not judgement.personal else None
        keys = set(breakdowns) if breakdowns is not None else {f.id for f in template.case_fields if f.breakdown}
        self.fields = [f for f in template.case_fields if f.id in keys and not f.personal]
        dims = template.all_dimensions()
        order = [*(d for k, d in dims.items() if k != "section"), dims["section"]]
        self.items: list[tuple[Dimension, DimensionItem]] = [(d, i) for d in order for i in d.items]
        self.tones = band_tones([b.label for b in template.bands])
        #: the Cases sheet's columns: two ``CaseRows`` with equal ``columns`` make equal rows
        self.columns = (tuple(f.id for f in self.fields), self.judge.id if self.judge else None,
                        tuple((d.id, i.id) for d, i in self.items))

    def case_row(self, case: dict[str, Any]) -> tuple[str | None, list[Any]]:
        """A case's tone for its rating and its cells on the Cases sheet."""
        rating = case.get("rating")
        values: list[Any] = [case.get("id"), case.get("source"), case.get("location"), case.get("score"),
                             rating or NOT_RATED, ", ".join(case.get("critical_failures") or [])]
        if self.judge is not None:
            values.append(case.get("judgement"))
        case_fields = case.get("fields") or {}
        values += [display(case_fields.get(f.id)) for f in self.fields]
        dims = case.get("dimensions") or {}
        values += [(dims.get(dim.id) or {}).get(item.id) for dim, item in self.items]
        return self.tones.get(rating or ""), values

    @staticmethod
    def issue_rows(case: dict[str, Any]) -> list[list[Any]]:
        """The case's issues as Data quality rows: severity, code, file, case id, location, message."""
        case_id, source = case.get("id"), case.get("source")
        return [[i.get("severity"), i.get("code"), source, case_id, i.get("location"), i.get("message")]
                for i in case.get("issues") or []]


def case_rows_for(template: Template) -> CaseRows:
    """The template's ``CaseRows`` for a run's aggregate (every breakdown field), worked out
    once and kept with the template."""
    return template.derived("board_case_rows", CaseRows)


class CaseDigest(_CaseDigest):
    """The workbook's pass over the cases, made while a run scores them (``api.run_audit``):
    each worker turns its cases into ``CaseRows`` rows, the main process adds them here in
    results order, and ``write_aggregate_workbook`` then reads no case back. Spooled to disk
    in ``folder`` like the workbook's own pass; ``close`` it when the workbook is written.
    Which cases have a critical failure is known only at the end, so the source of the first
    case of every reference is kept (as the run's duplicate check keeps one per reference)."""

    def __init__(self, template: Template, folder: Path) -> None:
        super().__init__(folder)
        self.columns = case_rows_for(template).columns


class _Book:
    """One aggregate workbook being written: the template, the document and the shared formats."""

    def __init__(self, wb: "Workbook", template: Template, doc: dict[str, Any], suppress: bool) -> None:
        self.wb = wb
        self.t = template
        self.doc = doc
        self.agg: dict[str, Any] = doc.get("aggregate") or {}
        self.sup = suppress
        self.styles = Styles(wb)
        self.used: set[str] = {n.casefold() for n in FIXED_SHEETS}
        dims = template.all_dimensions()
        self.declared: list[Dimension] = [d for k, d in dims.items() if k != "section"]
        self.sections: Dimension = dims["section"]
        # the Cases sheet's columns after the fixed ones
        self.rows = CaseRows(template, (self.agg.get("breakdowns") or {}).keys())
        self.judge, self.fields, self.items = self.rows.judge, self.rows.fields, self.rows.items
        self.tones = self.rows.tones

    # ------------------------------------------------------------------ helpers

    def count(self, n: int | None) -> int | str | None:
        return show_count(n, self.sup)

    def share(self, value: float | None, n: int | None) -> float | str | None:
        return show_share(value, n, self.sup)

    def mean(self, value: float | None, n: int | None) -> float | str | None:
        return show_mean(value, n, self.sup)

    def band_tone(self, score: Any) -> str | None:
        if not isinstance(score, (int, float)):
            return None
        band = self.t.band_for(float(score))
        return self.tones.get(band) if band else None

    def fmt_count(self) -> Any:
        return self.styles.get(num_format=COUNT, align="right")

    def fmt_share(self) -> Any:
        return self.styles.get(num_format=SHARE, align="right")

    def fmt_score(self, score: Any) -> Any:
        return self.styles.get(self.band_tone(score), num_format=SCORE, align="right")

    def sheet(self, name: str) -> SheetWriter:
        return SheetWriter(self.wb, self.styles, name)

    # ------------------------------------------------------------------ book

    def write(self, trends: dict[str, Any] | None, *, spool_dir: Path, digest: CaseDigest | None = None) -> None:
        """Every sheet, in order; ``spool_dir`` holds the per-case spools while they are written.
        A ``digest`` made during the run is used when its Cases columns are this workbook's;
        otherwise the cases are read back here."""
        self.digest: _CaseDigest
        if digest is not None and digest.columns == self.rows.columns:
            self.digest = digest
            self.sheets(trends)
            return
        self.digest = _CaseDigest(spool_dir)
        try:
            self.read_cases()
            self.sheets(trends)
        finally:
            self.digest.close()

    def read_cases(self) -> None:
        """The one pass over the cases (see ``_CaseDigest``)."""
        by_case = set() if self.sup else set((self.agg.get("critical_failures") or {}).get("by_case") or {})
        rows = self.rows
        for case in cases_of(self.doc):
            case_id = case.get("id")
            self.digest.add(case_id, case.get("source"), rows.issue_rows(case),
                            None if self.sup else rows.case_row(case), keep_source=case_id in by_case)

    def sheets(self, trends: dict[str, Any] | None) -> None:
        self.summary()
        if trends:
            self.trends(trends)
        for dim in self.declared:
            self.dimension(sheet_name(dim.title, self.used), dim)
        self.dimension("Sections", self.sections)
        self.criteria()
        if not self.sup:
            self.cases()
        self.breakdowns()
        self.outcome_measures()
        self.critical_failures()
        self.data_quality()
        self.inputs()

    # ------------------------------------------------------------------ Summary

    def summary(self) -> None:
        st, agg, doc = self.styles, self.agg, self.doc
        sh = self.sheet("Summary")
        inputs = doc.get("inputs") or []
        status = [i.get("status") for i in inputs]
        errors = self.digest.errors + sum(
            1 for f in inputs for i in f.get("issues", []) if i.get("severity") == "error")
        warnings = self.digest.warnings + sum(
            1 for f in inputs for i in f.get("issues", []) if i.get("severity") == "warning")
        tpl, tool, run = doc.get("template") or {}, doc.get("tool") or {}, doc.get("run") or {}
        n_cases, rated = agg.get("cases", 0), agg.get("rated", 0)
        sh.put(0, 0, f"Audit summary: {self.t.title}", st.title)
        sh.row = 2
        facts: list[tuple[str, Any, Any]] = [
            ("Round", run.get("label") or "(no label)", None),
            ("Template", f"{tpl.get('id', self.t.id)} {tpl.get('version', self.t.version)}", None),
            ("Template title", tpl.get("title") or self.t.title, st.wrap),
            ("Tool", f"{tool.get('name', 'msp-audit')} {tool.get('version', '')}".strip(), None),
            ("Generated", run.get("generated") or "", None),
            ("Files read", status.count("read"), self.fmt_count()),
            ("Files rejected", status.count("rejected"), self.fmt_count()),
            ("Files skipped", status.count("skipped"), self.fmt_count()),
            ("Cases", self.count(n_cases), self.fmt_count()),
            ("Rated", self.count(rated), self.fmt_count()),
            ("Not rated", self.count(n_cases - rated), self.fmt_count()),
            ("Mean score", self.mean(agg.get("mean_score"), rated), self.fmt_score(agg.get("mean_score"))),
            ("Cases with a critical failure", self.count((agg.get("critical_failures") or {}).get("cases", 0)),
             self.fmt_count()),
            ("Errors (in cases and files)", errors, self.fmt_count()),
            ("Warnings (in cases and files)", warnings, self.fmt_count()),
        ]
        for label, value, fmt in facts:
            sh.append([label], st.label)
            sh.put(sh.row - 1, 1, value, fmt)
        if self.sup:
            sh.skip()
            r = sh.append(["Disclosure control"], st.label)
            sh.put(r, 1, SUPPRESSION_NOTE, st.note)
            sh.ws.set_row(r, 75)
        chart_row = 2
        sh.skip()
        sh.append(["Ratings"], st.heading)
        head = sh.row
        sh.header(head, ["Rating", "Cases", "Share"])
        sh.skip()
        ratings: dict[str, int] = agg.get("ratings") or {}
        shares: dict[str, float | None] = agg.get("rating_shares") or {}
        first = sh.row
        hidden = False
        for label, n in ratings.items():
            r = sh.row
            shown = self.count(n)
            hidden = hidden or isinstance(shown, str)
            sh.put(r, 0, label, st.get(self.tones.get(label)))
            sh.put(r, 1, shown, self.fmt_count())
            sh.put(r, 2, self.share(shares.get(label), n), self.fmt_share())
            sh.row += 1
        if hidden:  # a chart would draw a suppressed count as zero
            sh.skip()
            sh.append(["No chart: some counts are suppressed."], st.note)
        elif ratings:
            chart = self.wb.add_chart({"type": "column"})
            chart.add_series({
                "name": "Cases",
                "categories": ["Summary", first, 0, sh.row - 1, 0],
                "values": ["Summary", first, 1, sh.row - 1, 1],
                "data_labels": {"value": True},
                "points": [{"fill": {"color": _chart_colour(self.tones.get(lbl))}} for lbl in ratings],
            })
            chart.set_title({"name": "Ratings"})
            chart.set_legend({"none": True})
            chart.set_y_axis({"name": "Cases", "min": 0})
            chart.set_size({"width": 480, "height": 288})
            sh.ws.insert_chart(chart_row, 4, chart)
        self._gates(sh)
        self._judgement(sh)
        sh.width(0, 34)
        sh.width(1, 30, wrap=True)
        sh.finish()

    def _gates(self, sh: SheetWriter) -> None:
        st = self.styles
        sh.skip()
        sh.append(["Gates"], st.heading)
        gates = self.doc.get("gates") or []
        if not gates:
            sh.append(["No gates were set for this run."], st.note)
            return
        sh.header(sh.row, ["Gate", "Value", "Result"])
        sh.skip()
        for g in gates:
            r = sh.row
            sh.put(r, 0, str(g.get("gate", "")))
            sh.put(r, 1, g.get("value"), st.get(num_format=SCORE, align="right"))
            passed = bool(g.get("passed"))
            sh.put(r, 2, "pass" if passed else "FAIL", st.get("green" if passed else "red", bold=not passed))
            sh.row += 1

    def _judgement(self, sh: SheetWriter) -> None:
        j = self.agg.get("judgement")
        if not j or self.t.judgement is None:
            return
        st = self.styles
        sh.skip()
        sh.append(["Auditors' own judgement and the computed rating"], st.heading)
        compared, agree = j.get("compared", 0), j.get("agree", 0)
        for label, value, fmt in (
            ("Cases with a judgement", self.count(compared), self.fmt_count()),
            ("Judgement agrees with the rating", self.count(agree), self.fmt_count()),
            ("Agreement", self.share(j.get("agreement"), agree), self.fmt_share()),
        ):
            sh.append([label], st.label)
            sh.put(sh.row - 1, 1, value, fmt)
        table: dict[str, dict[str, int]] = j.get("table") or {}
        bands = [b.label for b in self.t.bands]
        rows = bands + [a for a in table if a not in bands]
        cols = bands + [NOT_RATED]
        for row in table.values():
            cols += [c for c in row if c not in cols]
        sh.skip()
        sh.append(["Rows: the auditor's judgement; columns: the rating from the rules. "
                   "The diagonal is agreement."], st.note)
        sh.header(sh.row, ["Auditor \\ rules", *cols, "Total"])
        sh.skip()
        for a in rows:
            r = sh.row
            counts = table.get(a, {})
            sh.put(r, 0, a, st.get(self.tones.get(a), bold=True))
            for i, c in enumerate(cols, 1):
                fmt = st.get("green" if a == c else None, num_format=COUNT, align="right")
                sh.put(r, i, self.count(counts.get(c, 0)), fmt)
            sh.put(r, len(cols) + 1, self.count(sum(counts.values())), self.fmt_count())
            sh.row += 1
        for i in range(1, len(cols) + 2):
            sh.width(i, max(sh.widths.get(i, 0), 12))

    # ------------------------------------------------------------------ Trends

    def trends(self, trends: dict[str, Any]) -> None:
        st = self.styles
        name = "Trends"
        sh = self.sheet(name)
        rounds = [str(r) for r in trends.get("rounds") or []]
        rows = list(trends.get("rows") or [])
        dims = {d.id: d for d in self.declared}
        kind_text = {"overall": "Overall", "section": "Section", "criterion": "Criterion"}
        sh.put(0, 0, "Trends across rounds", st.title)
        changes = [f"Change {rounds[i - 1]} to {rounds[i]}" for i in range(1, len(rounds))]
        sh.header(1, ["Kind", "ID", "Title", *rounds, *changes])
        first_val, first_chg = 3, 3 + len(rounds)
        row_of: dict[int, int] = {}
        for n, item in enumerate(rows):
            r = 2 + n
            row_of[n] = r
            kind = str(item.get("kind", ""))
            sh.put(r, 0, kind_text.get(kind) or (dims[kind].title if kind in dims else kind))
            sh.put(r, 1, str(item.get("id", "")))
            sh.put(r, 2, str(item.get("title", "")), st.wrap)
            values = list(item.get("values") or [])
            counts = list(item.get("cases") or [])
            # Under --suppress-small a figure resting on 1-4 cases (and any change using it) is hidden.
            hidden = [self.sup and i < len(counts) and is_small(counts[i]) for i in range(len(rounds))]
            for i in range(len(rounds)):
                v = SUPPRESSED if hidden[i] else (values[i] if i < len(values) else None)
                sh.put(r, first_val + i, v, self.fmt_score(v) if kind != "criterion" else st.get(num_format=SCORE))
            change = list(item.get("change") or [])
            for i in range(1, len(rounds)):
                c = SUPPRESSED if hidden[i] or hidden[i - 1] else (change[i] if i < len(change) else None)
                tone = None if not isinstance(c, (int, float)) or c == 0 else ("green" if c > 0 else "red")
                sh.put(r, first_chg + i - 1, c, st.get(tone, num_format=CHANGE, align="right"))
        sh.width(2, 40, wrap=True)
        # One line chart per declared dimension present (plus the overall mean on each).
        overall = [n for n, it in enumerate(rows) if it.get("kind") == "overall"]
        kinds = [d.id for d in self.declared if any(it.get("kind") == d.id for it in rows)]
        if not kinds and overall:
            kinds = ["overall"]
        anchor = 2 + len(rows) + 2
        if rounds:
            for kind in kinds:
                chart = self.wb.add_chart({"type": "line"})
                members = overall + ([n for n, it in enumerate(rows) if it.get("kind") == kind] if kind != "overall" else [])
                for n in members:
                    r = row_of[n]
                    chart.add_series({
                        "name": [name, r, 2],
                        "categories": [name, 1, first_val, 1, first_val + len(rounds) - 1],
                        "values": [name, r, first_val, r, first_val + len(rounds) - 1],
                        "marker": {"type": "circle"},
                    })
                title = "Overall mean score" if kind == "overall" else f"Overall and {dims[kind].title}"
                chart.set_title({"name": title})
                chart.set_y_axis({"name": "Mean score", "min": 0, "max": 100})
                chart.set_size({"width": 720, "height": 360})
                sh.ws.insert_chart(anchor, 0, chart)
                anchor += 19
        sh.finish(freeze=(2, 3), landscape=True)

    # ------------------------------------------------------------------ dimensions

    def dimension(self, name: str, dim: Dimension) -> None:
        st = self.styles
        sh = self.sheet(name)
        stats: dict[str, Any] = (self.agg.get("dimensions") or {}).get(dim.id, {})
        bands = [b.label for b in self.t.bands]
        if any(i.statement for i in dim.items):
            about = '"I" statement'
        elif any(i.group for i in dim.items):
            about = "Group"
        else:
            about = "Description"
        sh.put(0, 0, dim.title, st.title)
        sh.header(1, ["ID", "Title", about, "Mean score", "Band of the mean", "Cases",
                      *(f"Share {b}" for b in bands)])
        r = 2
        hidden = False
        for item in dim.items:
            s = stats.get(item.id) or {}
            n, m = s.get("cases", 0), s.get("mean")
            sh.put(r, 0, item.id)
            sh.put(r, 1, item.title, st.wrap)
            sh.put(r, 2, item.statement or item.group or item.description, st.wrap)
            shown = self.mean(m, n)
            hidden = hidden or isinstance(shown, str)
            sh.put(r, 3, shown, self.fmt_score(shown))
            band = self.t.band_for(m) if isinstance(shown, float | int) else None
            sh.put(r, 4, band or ("*" if shown == "*" else "Not scored"), st.get(self.tones.get(band or "")))
            sh.put(r, 5, self.count(n), self.fmt_count())
            band_shares = s.get("bands") or {}
            for i, b in enumerate(bands):
                v = band_shares.get(b)
                sh.put(r, 6 + i, self.share(v, count_from_share(v, n)), self.fmt_share())
            r += 1
        sh.width(1, 34, wrap=True)
        sh.width(2, 60 if about == '"I" statement' else 34, wrap=True)
        if hidden:  # a chart would draw a suppressed mean as zero
            sh.put(r + 1, 0, "No chart: some means are suppressed.", st.note)
        elif dim.items:
            chart = self.wb.add_chart({"type": "bar"})
            chart.add_series({
                "name": "Mean score",
                "categories": [name, 2, 1, r - 1, 1],
                "values": [name, 2, 3, r - 1, 3],
                "data_labels": {"value": True, "num_format": SCORE},
                "fill": {"color": "#4472C4"},
            })
            chart.set_title({"name": f"{dim.title}: mean score"})
            chart.set_legend({"none": True})
            chart.set_x_axis({"min": 0, "max": 100, "name": "Mean score"})
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 760, "height": max(240, 34 * len(dim.items) + 90)})
            sh.ws.insert_chart(r + 2, 0, chart)
        sh.finish(freeze=(2, 2), landscape=True)

    # ------------------------------------------------------------------ criteria

    def option_columns(self) -> list[str]:
        labels: list[str] = []
        for scale in self.t.scales.values():
            labels += [o.label for o in scale.options if o.label not in labels]
        return labels

    def criteria(self) -> None:
        st = self.styles
        sh = self.sheet("Criteria")
        stats: dict[str, Any] = self.agg.get("criteria") or {}
        options = self.option_columns()
        headers = ["ID", "Section", "Question", "Weight", "Critical", "Attainment", "Scored", *options,
                   "Unanswered", "Excluded", "Not applicable (rule)", "Flagged", "Weighted shortfall"]
        sh.header(0, headers)
        section_of = {c.id: s.title for s in self.t.sections for c in s.criteria}
        order = sorted(
            (cid for cid in self.t.criteria if cid in stats),
            key=lambda cid: (-(stats[cid].get("shortfall") or 0.0), natural_key(cid)),
        )
        r = 1
        for cid in order:
            crit, s = self.t.criteria[cid], stats[cid]
            scale = self.t.scale_of(cid)
            by_label = {o.label: o.value for o in scale.options}
            counts: dict[str, int] = s.get("counts") or {}
            att = s.get("attainment")
            shown_att = self.mean(att, s.get("scored"))
            tone = attainment_tone(att) if isinstance(shown_att, float | int) else None
            sh.put(r, 0, cid)
            sh.put(r, 1, section_of.get(cid, ""), st.wrap)
            sh.put(r, 2, crit.text, st.wrap)
            sh.put(r, 3, crit.weight)
            sh.put(r, 4, "Critical" if crit.critical else "")
            sh.put(r, 5, shown_att, st.get(tone, num_format=ATTAINMENT, align="right"))
            sh.put(r, 6, self.count(s.get("scored", 0)), self.fmt_count())
            for i, label in enumerate(options):
                value = by_label.get(label)
                sh.put(r, 7 + i, self.count(counts.get(value, 0)) if value is not None else None, self.fmt_count())
            base = 7 + len(options)
            for i, key in enumerate(("unanswered", "excluded", "not_applicable", "flagged")):
                sh.put(r, base + i, self.count(s.get(key, 0)), self.fmt_count())
            sh.put(r, base + 4, s.get("shortfall"), st.get(num_format="0.00", align="right"))
            r += 1
        sh.width(1, 18, wrap=True)
        sh.width(2, 55, wrap=True)
        sh.ws.autofilter(0, 0, max(r - 1, 0), len(headers) - 1)
        sh.finish(freeze=(1, 1), landscape=True)

    # ------------------------------------------------------------------ cases

    def item_columns(self, dims: Sequence[Dimension]) -> list[tuple[Dimension, DimensionItem]]:
        return [(d, i) for d in dims for i in d.items]

    def _group_header(self, sh: SheetWriter, row: int, start: int, items: list[tuple[Dimension, DimensionItem]]) -> None:
        """Dimension titles over their item columns (one merged cell each)."""
        col = start
        for dim in dict.fromkeys(d for d, _ in items):
            n = sum(1 for d, _ in items if d is dim)
            if n > 1:
                sh.ws.merge_range(row, col, row, col + n - 1, "", self.styles.header)
            sh.put(row, col, dim.title, self.styles.header, cap=0)
            col += n

    def cases(self) -> None:
        st = self.styles
        sh = self.sheet("Cases")
        items = self.items
        fixed = ["Case ID", "Source", "Location", "Score", "Rating", "Critical failures"]
        if self.judge is not None:
            fixed.append(self.judge.label)
        fixed += [f.label for f in self.fields]
        start = len(fixed)
        self._group_header(sh, 0, start, items)
        sh.header(1, [*fixed, *(item_header(i) for _, i in items)])
        sh.ws.set_row(1, 60)
        score = st.get(num_format=SCORE)
        formats: list[Any] = [None, None, None, score, None, *([None] * (start - 5)), *([score] * len(items))]
        r = 2
        for tone, values in self.digest.rows:
            formats[4] = st.get(tone)
            sh.put_row(r, values, formats=formats)
            r += 1
        last = max(r - 1, 2)
        scale = self._colour_scale()
        sh.ws.conditional_format(2, 3, last, 3, scale)
        if items:
            sh.ws.conditional_format(2, start, last, start + len(items) - 1, scale)
        for i in range(len(items)):
            sh.width(start + i, 13)
        sh.width(5, 16, wrap=True)
        sh.ws.autofilter(1, 0, last, start + len(items) - 1)
        sh.finish(freeze=(2, 1), landscape=True)

    def _colour_scale(self) -> dict[str, Any]:
        """Red at 0, amber at the lowest passing band's minimum, green at 100: the same in every round."""
        mids = [b.min for b in self.t.bands]
        mid = mids[-2] if len(mids) >= 2 else 50
        return {
            "type": "3_color_scale",
            "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": mid, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 100, "max_color": "#63BE7B",
        }

    # ------------------------------------------------------------------ breakdowns

    def breakdowns(self) -> None:
        st = self.styles
        sh = self.sheet("Breakdowns")
        data: dict[str, Any] = self.agg.get("breakdowns") or {}
        items = self.item_columns(self.declared)
        sh.put(0, 0, "Breakdowns: cases and mean scores by team, agency, abuse type and the like", st.title)
        sh.row = 2
        fields = self.fields
        if not fields:
            sh.append(["The template marks no case field as a breakdown."], st.note)
        for f in fields:
            sh.append([f.label], st.heading)
            if f.type == "multichoice":
                sh.append(["A case with several values counts under each of them."], st.note)
            self._group_header(sh, sh.row, 4, items)
            sh.skip()
            sh.header(sh.row, ["Value", "Cases", "Rated", "Mean score", *(item_header(i) for _, i in items)])
            sh.ws.set_row(sh.row, 60)
            sh.skip()
            for value, s in (data.get(f.id) or {}).items():
                r = sh.row
                rated = s.get("rated", 0)
                sh.put(r, 0, value)
                sh.put(r, 1, self.count(s.get("cases", 0)), self.fmt_count())
                sh.put(r, 2, self.count(rated), self.fmt_count())
                m = self.mean(s.get("mean_score"), rated)
                sh.put(r, 3, m, self.fmt_score(m))
                dims = s.get("dimensions") or {}
                for i, (dim, item) in enumerate(items):
                    v = self.mean((dims.get(dim.id) or {}).get(item.id), rated)
                    sh.put(r, 4 + i, v, self.fmt_score(v))
                sh.row += 1
            sh.skip()
        for i in range(len(items)):
            sh.width(4 + i, 13)
        sh.width(0, 34, wrap=True)
        sh.finish(freeze=(0, 1), landscape=True)

    # ------------------------------------------------------------------ outcome measures

    def outcome_measures(self) -> None:
        st = self.styles
        sh = self.sheet("Outcome measures")
        counts: dict[str, dict[str, int]] = self.agg.get("fields") or {}
        shares: dict[str, dict[str, float | None]] = self.agg.get("field_shares") or {}
        sh.put(0, 0, "Outcome measures: every choice field (the Safeguarding Adults Collection items)", st.title)
        sh.row = 2
        fields = [f for f in self.t.case_fields if f.id in counts and not f.personal]
        if not fields:
            sh.append(["The template has no choice fields."], st.note)
        for f in fields:
            sh.append([f.label], st.heading)
            if f.type == "multichoice":
                sh.append(["Several choices can be recorded for one case; shares are of all cases."], st.note)
            sh.header(sh.row, ["Choice", "Cases", "Share"])
            sh.skip()
            for choice, n in counts[f.id].items():
                r = sh.row
                sh.put(r, 0, choice, st.wrap)
                sh.put(r, 1, self.count(n), self.fmt_count())
                sh.put(r, 2, self.share((shares.get(f.id) or {}).get(choice), n), self.fmt_share())
                sh.row += 1
            sh.skip()
        sh.width(0, 55, wrap=True)
        sh.finish()

    # ------------------------------------------------------------------ critical failures

    def critical_failures(self) -> None:
        st = self.styles
        sh = self.sheet("Critical failures")
        cf: dict[str, Any] = self.agg.get("critical_failures") or {}
        sh.put(0, 0, "Critical failures: critical criteria answered with no points", st.title)
        sh.row = 2
        sh.append(["By criterion"], st.heading)
        sh.header(sh.row, ["Criterion", "Cases", "Question"])
        sh.skip()
        by_crit: dict[str, int] = cf.get("by_criterion") or {}
        if not by_crit:
            sh.append(["No critical failures."], st.note)
        for cid, n in by_crit.items():
            crit = self.t.criteria.get(cid)
            r = sh.append([cid])
            sh.put(r, 1, self.count(n), self.fmt_count())
            sh.put(r, 2, crit.text if crit else "", st.wrap)
        if not self.sup:
            sh.skip()
            sh.append(["By case"], st.heading)
            sh.header(sh.row, ["Case ID", "Criterion", "Question", "Source"])
            sh.skip()
            formats = [None, None, st.wrap, None]
            by_case: dict[str, list[str]] = cf.get("by_case") or {}
            for case_id, ids in by_case.items():
                source = self.digest.sources.get(case_id)
                for cid in ids:
                    crit = self.t.criteria.get(cid)
                    sh.append([case_id, cid, crit.text if crit else "", source], formats=formats)
        sh.width(1, 12)
        sh.width(2, 60, wrap=True)
        sh.finish()

    # ------------------------------------------------------------------ data quality and inputs

    def data_quality(self) -> None:
        st = self.styles
        sh = self.sheet("Data quality")
        headers = ["Severity", "Code", "File", "Case ID", "Location", "Message"]
        sh.header(0, headers)
        files: list[list[Any]] = []
        for rec in self.doc.get("inputs") or []:
            if rec.get("status") == "rejected":
                files.append(["error", "rejected", rec.get("path"), None, None, rec.get("error")])
            for i in rec.get("issues") or []:
                files.append([i.get("severity"), i.get("code"), rec.get("path"), None, i.get("location"), i.get("message")])
        error_formats = [st.get("red"), None, None, None, None, st.wrap]
        other_formats = [st.get("amber"), None, None, None, None, st.wrap]
        r = 1
        for errors in (True, False):  # errors first, then the rest, each files before cases
            for row in chain(files, self.digest.issues):
                if (row[0] == "error") == errors:
                    sh.put_row(r, row, formats=error_formats if errors else other_formats)
                    r += 1
        if r == 1:
            sh.put(1, 0, "No rejected files, errors or warnings.", st.note)
        sh.width(2, 36, wrap=True)
        sh.width(5, 80, wrap=True)
        sh.ws.autofilter(0, 0, max(r - 1, 1), len(headers) - 1)
        sh.finish(freeze=(1, 0), landscape=True)

    def inputs(self) -> None:
        st = self.styles
        sh = self.sheet("Inputs")
        sh.header(0, ["Path", "SHA-256", "Status", "Cases", "Error / note"])
        tone = {"read": None, "rejected": "red", "skipped": "grey"}
        formats: list[Any] = [st.wrap, None, None, self.fmt_count(), st.wrap]
        for r, rec in enumerate(self.doc.get("inputs") or [], 1):
            formats[2] = st.get(tone.get(rec.get("status") or ""))
            sh.put_row(r, [rec.get("path"), rec.get("sha256"), rec.get("status"), rec.get("cases", 0),
                           rec.get("error") or rec.get("note")], formats=formats)
        sh.width(0, 50, wrap=True)
        sh.width(1, 66)
        sh.width(4, 60, wrap=True)
        sh.finish(freeze=(1, 0), landscape=True)


def _chart_colour(tone: str | None) -> str:
    return {"green": "#70AD47", "lightgreen": "#A9D08E", "amber": "#FFC000", "red": "#C00000"}.get(tone or "", "#A5A5A5")

