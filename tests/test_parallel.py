"""Worker processes: the same output whatever --jobs is, in input order, and a worker that dies
loses only the file it was reading."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from audit_cli import api
from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.templates import load_template

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture()
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled samples twice over (24 files, every layout), under two folders."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    for name in ("north", "south"):
        shutil.copytree(SAMPLES, tmp_path / "in" / name)
    (tmp_path / "in" / "south" / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    return tmp_path / "in"


def cell_values(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_output_is_identical_for_one_and_two_jobs(corpus: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(app, ["score", str(corpus), "-o", "out1", "--jobs", "1", "-f", "json"])
    two = runner.invoke(app, ["score", str(corpus), "-o", "out2", "--jobs", "2", "-f", "json"])
    assert one.exit_code == two.exit_code == 1  # the broken file
    doc1, doc2 = json.loads(one.stdout), json.loads(two.stdout)
    assert doc1 == doc2
    assert len(doc1["cases"]) > 40 and len(doc1["rejected"]) == 1
    names1 = sorted(p.name for p in Path("out1/cases").iterdir())
    names2 = sorted(p.name for p in Path("out2/cases").iterdir())
    assert names1 == names2 and len(names1) == len(doc1["cases"])
    assert not any(n.startswith(".pending") for n in names2)
    for name in names1[:5] + names1[-5:]:
        assert cell_values(Path("out1/cases") / name) == cell_values(Path("out2/cases") / name)
    assert cell_values(Path("out1/aggregate.xlsx")) == cell_values(Path("out2/aggregate.xlsx"))


def test_results_come_back_in_input_order(corpus: Path) -> None:
    tpl = load_template("msp-core")
    seen: list[tuple[str, int, int]] = []
    report = run_audit([corpus], tpl, RunOptions(jobs=2), on_progress=lambda r, n, t: seen.append((r.path, n, t)))
    files, _ = api.discover([corpus])
    assert [p for p, _, _ in seen] == [api.display_path(f) for f in files]
    assert [n for _, n, _ in seen] == list(range(1, len(files) + 1))
    assert {t for _, _, t in seen} == {len(files)}
    assert [i.path for i in report.inputs if i.status != "skipped"] == [api.display_path(f) for f in files]


def plant_killer(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A case file that kills the process reading it. Workers are forked, so the patched reader is
    inherited; returns the real ``process_file``."""
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("needs the fork start method")
    (folder / name).write_text(json.dumps({"case": {"case_ref": "K-1"}}), encoding="utf-8")
    real = api.process_file

    def deadly(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == name:
            os._exit(9)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(api, "process_file", deadly)
    return real


def test_a_worker_that_dies_loses_only_its_file(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = plant_killer(corpus / "north", "killer.json", monkeypatch)
    tpl = load_template("msp-core")
    report = run_audit([corpus], tpl, RunOptions(jobs=2))
    killer = next(i for i in report.inputs if i.path.endswith("killer.json"))
    assert killer.status == "rejected"
    assert killer.error == "the reader process stopped while reading this file (crashed or ran out of memory)"
    monkeypatch.setattr(api, "process_file", real)
    clean = run_audit([corpus], tpl, RunOptions(jobs=1))
    assert [c["id"] for c in report.cases] == [c["id"] for c in clean.cases if c["source"] != killer.path]
    assert len(report.cases) == len(clean.cases) - 1


def test_on_case_needs_one_job(corpus: Path) -> None:
    with pytest.raises(ValueError, match="jobs=1"):
        run_audit([corpus], load_template("msp-core"), RunOptions(jobs=2), on_case=lambda c, r: None)


def test_a_worker_dying_while_chunks_are_queued(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow consumer lets the pool break between results, when the next chunk is submitted."""
    import time

    plant_killer(corpus / "north", "0050-killer.json", monkeypatch)
    report = run_audit([corpus], load_template("msp-core"), RunOptions(jobs=2),
                       on_progress=lambda r, n, t: time.sleep(0.05))
    statuses = {i.path.rsplit("/", 1)[-1]: i.status for i in report.inputs}
    assert statuses["0050-killer.json"] == "rejected"
    assert sum(1 for s in statuses.values() if s == "read") == len(statuses) - 2  # the killer and broken.xlsx


def test_case_store_can_be_read_twice_at_once(tmp_path: Path) -> None:
    from audit_cli.store import CaseStore

    store = CaseStore(tmp_path)
    for n in range(50):
        store.append({"id": f"C-{n}", "text": "x" * n})
    outer = []
    for a in store:
        outer.append(a["id"])
        if a["id"] == "C-3":
            assert [b["id"] for b in store][:5] == ["C-0", "C-1", "C-2", "C-3", "C-4"]
    assert outer == [f"C-{n}" for n in range(50)] and len(store) == 50
    assert list(tmp_path.iterdir()) == []  # anonymous: nothing visible in the folder


def test_a_duplicate_cases_workbook_shows_its_warning(corpus: Path) -> None:
    """The second reading of a case reference is found by the main process, after a worker has
    drafted that case's workbook (which is then drafted again), or before the case is drafted
    in one process: either way its Issues sheet and its Summary's warning count agree with
    results.json, and the workbooks are the same whatever the number of workers."""
    from audit_cli.outputs import safe_name

    runner = CliRunner()
    books: dict[str, dict[str, dict[str, list[list[Any]]]]] = {}
    for jobs in ("1", "2"):
        out = f"dup{jobs}"
        res = runner.invoke(app, ["score", str(corpus), "-o", out, "--jobs", jobs, "-f", "json"])
        assert res.exit_code == 1, res.output
        doc = json.loads(res.stdout)
        used: set[str] = set()
        names = [safe_name(c["id"], used) + ".xlsx" for c in doc["cases"]]
        dups = 0
        books[jobs] = {}
        for case, name in zip(doc["cases"], names):
            values = cell_values(Path(out) / "cases" / name)
            books[jobs][name] = values
            warnings = [i for i in case["issues"] if i["severity"] == "warning"]
            summary = {row[0]: row[1] for row in values["Summary"] if row and row[0]}
            assert summary["Warnings"] == len(warnings), (name, summary["Warnings"], warnings)
            listed = [(row[1], row[2]) for row in values["Issues"][1:] if row[0] == "warning"]
            assert listed == [(i["code"], i["message"]) for i in warnings], name
            dups += any(i["code"] == "duplicate-case" for i in warnings)
        assert dups == len(doc["cases"]) // 2  # every case of the second copy
        assert not any(p.name.startswith(".pending") for p in (Path(out) / "cases").iterdir())
    assert books["1"] == books["2"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_is_read_again_once_however_many_of_its_cases_are_duplicates(
        corpus: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """In one process a case is drafted once its reference is checked: no file is read twice.
    With workers, a worker reads each file with duplicates once more after the run."""
    from collections import Counter

    from audit_cli.writers.case_workbook import CaseWorkbooks

    tpl = load_template("msp-core")
    log = corpus.parent / f"reads-{jobs}.log"
    real = api.process_file

    def logged(path: Path, *args: Any, **kwargs: Any) -> Any:  # inherited by forked workers
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(Path(path).as_posix() + "\n")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(api, "process_file", logged)
    out = corpus.parent / f"once-{jobs}"
    out.mkdir()
    writer = CaseWorkbooks(tpl, out)
    report = run_audit([corpus], tpl, RunOptions(out_dir=out, jobs=jobs, case_writer=writer))
    writer.cleanup()
    reads = Counter(log.read_text(encoding="utf-8").splitlines())
    cases = list(report.cases)
    twice = {c["source"] for c in cases if any(i["code"] == "duplicate-case" for i in c["issues"])}
    per_file = Counter(c["source"] for c in cases)
    assert any(per_file[s] > 1 for s in twice)  # a register among them: several duplicates in one file
    again = {p for p, n in reads.items() if n == 2}
    assert again == (set() if jobs == 1 else {(corpus.parent / s).as_posix() for s in twice})
    assert set(reads.values()) <= {1, 2}
    assert not any(p.name.startswith(".pending") for p in (out / "cases").iterdir())


def test_a_file_changed_before_it_is_read_again_keeps_its_first_draft(
        corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second reading must be of the bytes first read (their sha256), not merely give the
    same results line: evidence and comments are not in that line."""
    from audit_cli.outputs import safe_name
    from audit_cli.writers.case_workbook import CaseWorkbooks

    tpl = load_template("msp-core")
    target = sorted((corpus / "south").rglob("*.json"))[0]
    seen = corpus.parent / "seen.log"
    real = api.process_file

    def editing(path: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(path) == target:
            if seen.exists():  # the second reading, in a worker after the run: edited just before
                target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            seen.write_text("read", encoding="utf-8")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(api, "process_file", editing)
    out = corpus.parent / "changed"
    out.mkdir()
    writer = CaseWorkbooks(tpl, out)
    report = run_audit([corpus], tpl, RunOptions(out_dir=out, jobs=2, case_writer=writer))
    writer.cleanup()
    used: set[str] = set()
    flagged = {}
    for case in report.cases:
        name = safe_name(case["id"], used) + ".xlsx"
        if any(i["code"] == "duplicate-case" for i in case["issues"]):
            codes = [r[1] for r in cell_values(out / "cases" / name)["Issues"][1:]]
            flagged[case["source"]] = "duplicate-case" in codes
    changed = target.relative_to(corpus.parent).as_posix()
    assert flagged[changed] is False  # its first draft stands
    assert all(ok for source, ok in flagged.items() if source != changed) and len(flagged) > 10
