"""Outputs are safe: file names from case ids, nothing outside --out, atomic writes, inputs
untouched, the output folder never read back, pseudonymous ids, nothing personal leaves."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

import hostile_corpus as hc
from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.errors import AuditError, UsageError
from audit_cli.outputs import MAX_NAME, atomic_write, atomic_write_bytes, inside, safe_name
from audit_cli.privacy import load_key, pseudonym, scrub
from audit_cli.templates import load_template
from conftest import assert_valid_results

runner = CliRunner()
KEY = b"0123456789abcdef-not-a-real-secret"


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize("case_id,name", [
    ("C-1001", "C-1001"),
    ("ok-id_1.2", "ok-id_1.2"),
    ("..", "case"),
    (".", "case"),
    ("", "case"),
    (".hidden", "hidden"),
    ("name.", "name"),
    ("a..b", "a_b"),
    ("../../etc/passwd", "___etc_passwd"),
    ("/etc/passwd", "_etc_passwd"),
    ("C:\\x", "C__x"),
    ("\\\\server\\share", "__server_share"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("LPT1", "_LPT1"),
    ("NUL.xlsx", "_NUL.xlsx"),
    ("com9", "_com9"),
    ("Aux.tar.gz", "_Aux.tar.gz"),
    ("CONSOLE", "CONSOLE"),
    ("a\x00b", "a_b"),
    ("Ünïcødé", "_n_c_d_"),
    ("日本語", "___"),
    ("a:b", "a_b"),  # an NTFS alternate data stream
])
def test_safe_name(case_id: str, name: str) -> None:
    assert safe_name(case_id) == name


def test_a_600_character_id_is_bounded_and_stays_distinct() -> None:
    a, b = safe_name("x" * 600), safe_name("x" * 599 + "y")
    assert len(a) == len(b) == MAX_NAME
    assert a != b and a.startswith("x" * 89 + "-") and re.fullmatch(r"x{89}-[0-9a-f]{10}", a)


def test_collisions_are_numbered_case_insensitively() -> None:
    used: set[str] = set()
    ids = ["abc", "ABC", "a/b", "a_b", "a b", "abc-2", "abc", "", "..", "x" * 600, "x" * 600]
    assert [safe_name(i, used) for i in ids] == [
        "abc", "ABC-2", "a_b", "a_b-2", "a_b-3", "abc-2-2", "abc-3", "case", "case-2",
        safe_name("x" * 600), safe_name("x" * 600) + "-2",
    ]
    assert len({n.casefold() for n in used}) == len(ids)


def test_every_name_is_a_plain_file_name_inside_the_folder(tmp_path: Path) -> None:
    hostile = ["../../etc/passwd", "/abs", "C:\\x", "CON", "..", "", "x" * 600, "a/../../b", "~/.ssh/id", "\x00"]
    used: set[str] = set()
    for case_id in hostile:
        name = safe_name(case_id, used)
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", name), name
        path = inside(tmp_path, "cases", f"{name}.xlsx")
        assert path.parent == (tmp_path / "cases").resolve()


def test_inside_refuses_paths_that_leave_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert inside(out, "cases", "a.xlsx") == (out / "cases" / "a.xlsx").resolve()
    for parts in (("..", "x"), ("/etc/passwd",), ("cases", "..", "..", "x")):
        with pytest.raises(AuditError, match="refusing to write outside the output folder"):
            inside(out, *parts)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "cases").symlink_to(outside, target_is_directory=True)
    with pytest.raises(AuditError, match="refusing to write outside the output folder"):
        inside(out, "cases", "a.xlsx")


# --------------------------------------------------------------------------- atomic writes


def test_a_writer_that_fails_midway_leaves_no_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out" / "aggregate.xlsx"

    def half(tmp: Path) -> None:
        tmp.write_bytes(b"PK\x03\x04 half a workbook")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half)
    assert list(target.parent.iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    atomic_write_bytes(target, b'{"old": true}')

    def half(tmp: Path) -> None:
        tmp.write_bytes(b'{"new": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half)
    assert target.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_successful_write_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


# --------------------------------------------------------------------------- inputs and the output folder


def tree(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture()
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cases"
    folder.mkdir()
    for name, doc in hc.GOOD.items():
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
    return folder


def test_inputs_are_never_changed(cases: Path) -> None:
    os.chmod(cases / "good-1.json", 0o444)  # a read-only input is read, not refused
    before = tree(cases)
    assert invoke("score", cases, "-o", "out").exit_code == 0
    assert tree(cases) == before


def test_score_dot_twice_never_reads_its_own_output(cases: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cases)
    first = invoke("score", ".", "-f", "json")
    assert first.exit_code == 0, first.output
    assert (cases / "audit-output" / "results.json").is_file()
    assert (cases / "audit-output" / ".msp-audit-output").is_file()
    second = invoke("score", ".", "-f", "json")
    assert second.exit_code == 0, second.output
    paths = [i["path"] for i in json.loads(second.stdout)["inputs"]]
    assert paths == ["good-1.json", "good-2.json", "good-3.json"]
    # -o elsewhere: the marker keeps the old audit-output/ from being read
    third = invoke("score", ".", "-o", "../elsewhere", "-f", "json")
    assert third.exit_code == 0, third.output
    assert [i["path"] for i in json.loads(third.stdout)["inputs"]] == paths
    assert (cases.parent / "elsewhere" / "results.json").is_file()


# --------------------------------------------------------------------------- pseudonyms


def test_load_key(tmp_path: Path) -> None:
    good = tmp_path / "key"
    good.write_bytes(b"0123456789abcdef\r\n")
    assert load_key(good) == b"0123456789abcdef"
    short = tmp_path / "short"
    short.write_bytes(b"0123456789abcde\n")
    with pytest.raises(UsageError, match=r"holds 15 bytes; it needs at least 16"):
        load_key(short)
    with pytest.raises(UsageError, match=r"cannot read the key file .*missing"):
        load_key(tmp_path / "missing")
    big = tmp_path / "big"
    big.write_bytes(b"k" * (64 * 1024 + 1))
    with pytest.raises(UsageError, match=r"is over 64 KB; is it the right file\?"):
        load_key(big)


def test_pseudonym_is_a_short_keyed_hash() -> None:
    expected = "P-" + hmac.new(KEY, "C-1001".encode(), hashlib.sha256).hexdigest()[:12]
    assert pseudonym("C-1001", KEY) == expected
    assert re.fullmatch(r"P-[0-9a-f]{12}", expected)
    assert pseudonym("C-1001", KEY + b"x") != expected
    assert pseudonym("C-1002", KEY) != expected
    assert pseudonym("lone \ud800", KEY).startswith("P-")  # never raises


def test_scrub() -> None:
    assert scrub("no NS-1 found; the file name 'NS-1' is used", "NS-1", "P-x") == (
        "no P-x found; the file name 'P-x' is used")
    assert scrub("date 12/12/2026", "12", "P-x") == "date 12/12/2026"  # too short to search for
    assert scrub(None, "NS-1", "P-x") is None


def pseudonymised_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    (folder / "a.json").write_text(json.dumps(hc.good_json_case("NS-0001")), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps({"cases": [hc.good_json_case("NS-0002", A1="no"),
                                                        hc.good_json_case("NS-0001")]}), encoding="utf-8")
    no_ref = hc.good_json_case("x")
    del no_ref["case"]["case_ref"]
    (folder / "NS-0003.json").write_text(json.dumps(no_ref), encoding="utf-8")  # falls back to its file name
    return folder


def test_pseudonymise_replaces_every_case_id_in_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pseudonymised_folder(tmp_path)
    (tmp_path / "key").write_bytes(KEY + b"\n")
    res = invoke("score", "cases", "-o", "out", "--pseudonymise", "key", "-f", "json")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "out" / "results.json").read_text(encoding="utf-8")
    assert res.stdout == text
    doc = json.loads(text)
    assert_valid_results(doc)
    for real in ("NS-0001", "NS-0002"):
        assert real not in text
    alias = {ref: pseudonym(ref, KEY) for ref in ("NS-0001", "NS-0002", "NS-0003")}
    ids = [c["id"] for c in doc["cases"]]
    assert ids == [alias["NS-0003"], alias["NS-0001"], alias["NS-0002"], alias["NS-0001"]]
    dup = [i for c in doc["cases"] for i in c["issues"] if i["code"] == "duplicate-case"]
    assert [i["message"] for i in dup] == [f"case reference '{alias['NS-0001']}' was already read from cases/a.json"]
    # a form saved under its case reference: the file name in results is pseudonymised too
    assert doc["cases"][0]["source"] == f"cases/{alias['NS-0003']}.json"
    assert [i["path"] for i in doc["inputs"]] == [f"cases/{alias['NS-0003']}.json", "cases/a.json", "cases/b.json"]
    fallback = [i for c in doc["cases"] for i in c["issues"] if i["code"] == "missing-identifier"]
    assert [i["message"] for i in fallback] == [f"no Case reference found; the file name '{alias['NS-0003']}' "
                                                "is used instead"]
    # the workbooks: file names from pseudonyms; the board's workbook never names a real reference
    from audit_cli.outputs import safe_name

    used: set[str] = set()
    expected_files = {safe_name(i, used) + ".xlsx" for i in ids}
    assert expected_files == {f"{alias['NS-0003']}.xlsx", f"{alias['NS-0001']}.xlsx", f"{alias['NS-0002']}.xlsx",
                              f"{alias['NS-0001']}-2.xlsx"}
    assert {p.name for p in (tmp_path / "out" / "cases").iterdir()} == expected_files
    # the second NS-0001's own workbook shows its duplicate warning, by pseudonym, as results.json does
    issues = openpyxl.load_workbook(tmp_path / "out" / "cases" / f"{alias['NS-0001']}-2.xlsx")["Issues"]
    assert ("warning", "duplicate-case", dup[0]["message"]) in [r[:3] for r in issues.iter_rows(values_only=True)]
    texts = output_texts(tmp_path / "out")
    for name in ("results.json", "aggregate.xlsx"):
        for real in ("NS-0001", "NS-0002", "NS-0003"):
            assert real not in texts[name], (name, real)
    # the same key gives the same pseudonyms in the next run; another key gives others
    again = invoke("score", "cases", "-o", "out2", "--pseudonymise", "key", "-f", "json")
    assert [c["id"] for c in json.loads(again.stdout)["cases"]] == ids
    (tmp_path / "key2").write_bytes(KEY[::-1])
    other = invoke("score", "cases", "-o", "out3", "--pseudonymise", "key2", "-f", "json")
    assert not set(ids) & {c["id"] for c in json.loads(other.stdout)["cases"]}


def test_the_case_sink_gets_the_real_case_and_the_pseudonymous_result(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = pseudonymised_folder(tmp_path)
    seen: list[tuple[str, str, list[str]]] = []
    run_audit([folder], load_template("msp-core"), RunOptions(pseudonymise_key=KEY),
              on_case=lambda case, result: seen.append((case.id, result.id, [i.message for i in case.issues])))
    assert [(c, r) for c, r, _ in seen] == [(ref, pseudonym(ref, KEY)) for ref in ("NS-0003", "NS-0001", "NS-0002",
                                                                                   "NS-0001")]
    assert "the file name 'NS-0003' is used instead" in seen[0][2][0]  # the auditor's own view keeps the reference


@pytest.mark.parametrize("content", [None, b"too short\n"])
def test_a_bad_key_file_is_a_usage_error_and_nothing_is_written(content: bytes | None, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pseudonymised_folder(tmp_path)
    if content is not None:
        (tmp_path / "key").write_bytes(content)
    res = invoke("score", "cases", "-o", "out", "--pseudonymise", "key")
    assert res.exit_code == 2
    assert res.stderr.startswith("msp-audit: --pseudonymise:") and len(res.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- nothing personal, no free text

PERSONAL = ["Zebedee Personal-Marker", "1931-02-03"]
FREE_TEXT = ["EVIDENCE-MARKER", "COMMENT-MARKER", "NOTES-MARKER", "AUDITOR-MARKER"]


def output_texts(out: Path) -> dict[str, str]:
    """Every output file as text; workbooks and documents as the text of their XML parts."""
    texts: dict[str, str] = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                texts[p.name] = "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
        else:
            texts[p.name] = data.decode("utf-8", "replace")
    return texts


def test_personal_fields_and_free_text_never_reach_the_board_outputs(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cases"
    folder.mkdir()
    doc = {"case": {"case_ref": "PF-1", "adult_name": PERSONAL[0], "date_of_birth": PERSONAL[1], "team": "North",
                    "auditor": FREE_TEXT[3]},
           "answers": {"A1": {"answer": "yes", "evidence": FREE_TEXT[0], "comment": FREE_TEXT[1]}, "A2": "no"},
           "notes": FREE_TEXT[2]}
    (folder / "pf.json").write_text(json.dumps(doc), encoding="utf-8")
    bad = {"case": {"case_ref": "PF-2", "date_of_birth": f"born {PERSONAL[0]}"}, "answers": {"A1": "yes"}}
    (folder / "pf2.json").write_text(json.dumps(bad), encoding="utf-8")
    res = invoke("score", "cases", "-o", "out", "-f", "json")
    assert res.exit_code == 1  # the bad date of birth is an error ...
    result = json.loads(res.stdout)
    (issue,) = [i for c in result["cases"] for i in c["issues"] if i["code"] == "bad-field-value"]
    assert issue["message"] == "Date of birth: value is not valid for a date field"  # ... that does not quote it
    texts = output_texts(tmp_path / "out")
    assert "results.json" in texts
    for name, text in {**texts, "stdout": res.stdout, "stderr": res.stderr}.items():
        for marker in PERSONAL:
            assert marker not in text, (name, marker)
    for name in ("results.json", "aggregate.xlsx"):
        for marker in FREE_TEXT:
            assert marker not in texts[name], (name, marker)
    for marker in FREE_TEXT:
        assert marker not in res.stdout
    assert result["cases"][0]["fields"] == {"team": "North"}


def test_lone_surrogates_and_control_characters_reach_every_output_safely(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cases"
    folder.mkdir()
    hostile = next(h for h in hc.build() if h.name == "control-chars.json")
    (folder / hostile.name).write_bytes(hostile.data)
    res = invoke("score", "cases", "-o", "out", "-f", "json")
    assert res.exit_code == 0, res.output
    raw = (tmp_path / "out" / "results.json").read_bytes()
    doc = json.loads(raw.decode("utf-8"))  # strict UTF-8: no surrogate survived
    assert doc == json.loads(res.stdout)
    assert [c["id"] for c in doc["cases"]] == ["CC-1\ufffd\ufffd"]
    assert doc["cases"][0]["fields"]["team"] == "North\ufffd"
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw.decode("utf-8"))
