"""Hostile and broken input: nothing crashes, hangs, leaks or is lost (SPEC section 9).

The corpus is generated in code (``hostile_corpus.py``); every file must be rejected
with its exact one-line reason while the good files beside it are still scored, in
bounded memory and time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import hostile_corpus as hc
from audit_cli import api
from audit_cli.api import process_file, run_audit
from audit_cli.errors import ReadError
from audit_cli.readers import safety
from audit_cli.readers.json_reader import MAX_DEPTH, parse_json
from audit_cli.templates import load_template
from conftest import assert_valid_results

CORPUS = hc.build()
REJECTED = [h for h in CORPUS if h.reason is not None]
ACCEPTED = [h for h in CORPUS if h.reason is None]


@pytest.fixture(scope="module")
def msp() -> Any:
    return load_template("msp-core")


def test_the_corpus_covers_at_least_25_kinds_of_hostile_file() -> None:
    assert len(REJECTED) >= 25
    assert len({h.name for h in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("h", REJECTED, ids=[h.name for h in REJECTED])
def test_each_hostile_file_is_rejected_with_its_exact_reason(h: hc.Hostile, tmp_path: Path, msp: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "in" / h.name
    path.parent.mkdir()
    path.write_bytes(h.data)
    outcome = process_file(path, msp)
    assert outcome.record.status == "rejected"
    assert outcome.record.error == h.reason
    assert outcome.record.path == f"in/{h.name}"
    assert outcome.record.sha256 == hashlib.sha256(h.data).hexdigest()
    assert "\n" not in h.reason and len(h.reason) <= 300
    assert outcome.cases == [] and outcome.results == []


def read_one(h: hc.Hostile, tmp_path: Path, msp: Any) -> api.FileOutcome:
    path = tmp_path / h.name
    path.write_bytes(h.data)
    outcome = process_file(path, msp)
    assert outcome.record.status == "read", outcome.record.error
    return outcome


def by_name(name: str) -> hc.Hostile:
    return next(h for h in CORPUS if h.name == name)


def test_json_with_a_bom_is_read(tmp_path: Path, msp: Any) -> None:
    (result,) = read_one(by_name("bom.json"), tmp_path, msp).results
    assert result.id == "BOM-1" and result.criteria["A1"].status == "scored"


def test_duplicate_keys_are_warnings_at_their_location_and_the_last_value_wins(tmp_path: Path, msp: Any) -> None:
    outcome = read_one(by_name("dup-keys.json"), tmp_path, msp)
    assert [(i.severity, i.code, i.location, i.message) for i in outcome.record.issues] == [
        ("warning", "duplicate-key", "answers.A1", "key 'A1' is given more than once; the last value is used"),
        ("warning", "duplicate-key", "case.team", "key 'team' is given more than once; the last value is used"),
    ]
    (case,) = outcome.cases
    assert case.fields["team"] == "South" and case.answers["A1"].value == "yes"


def test_traversal_and_reserved_ids_are_kept_as_ids_and_sanitised_as_names(tmp_path: Path, msp: Any) -> None:
    from audit_cli.outputs import safe_name

    outcome = read_one(by_name("odd-ids.json"), tmp_path, msp)
    ids = [r.id for r in outcome.results]
    assert ids == ["../../etc/passwd", "CON", "/abs", "C:\\x", "x" * 600, "nul.xlsx"]
    used: set[str] = set()
    names = [safe_name(i, used) for i in ids]
    assert names[:4] == ["___etc_passwd", "_CON", "_abs", "C__x"]
    assert names[4].startswith("x" * 89 + "-") and len(names[4]) == 100
    assert names[5] == "_nul.xlsx"


def test_control_characters_and_lone_surrogates_are_cleaned_where_text_is_read(tmp_path: Path, msp: Any) -> None:
    outcome = read_one(by_name("control-chars.json"), tmp_path, msp)
    (case,) = outcome.cases
    (result,) = outcome.results
    assert case.id == "CC-1\ufffd\ufffd"
    assert case.fields["team"] == "North\ufffd" and case.fields["agency"] == "Police\ufffd\ufffd[31m"
    assert case.answers["A1"].evidence == "lone \ufffd surrogate\ufffd" and case.answers["A1"].comment == "ok\ufffd"
    assert case.notes == "bell \ufffd and \ufffd"
    unknown = [i for i in result.issues if i.code == "unknown-field"]
    assert [(i.message, i.location) for i in unknown] == [("'?odd?' is not a case field of msp-core; ignored",
                                                          "case.?odd?")]
    text = json.dumps([result.to_dict(), outcome.record.to_dict()], ensure_ascii=False)
    text.encode("utf-8")  # a lone surrogate here would raise UnicodeEncodeError


# --------------------------------------------------------------------------- end to end

WRAPPER = """
import json, resource, subprocess, sys, time
start = time.monotonic()
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err, timeout=120).returncode
print(json.dumps({"rc": rc, "seconds": time.monotonic() - start,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def snapshot(root: Path, *skip: Path) -> dict[str, tuple[str, int]]:
    """Every regular file under root with its hash and mtime (FIFOs are never opened)."""
    out: dict[str, tuple[str, int]] = {}
    for p in sorted(root.rglob("*")):
        if any(p == s or s in p.parents for s in skip):
            continue
        if p.is_file() and not p.is_symlink():
            out[os.fsdecode(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="RUSAGE_CHILDREN and FIFOs are POSIX")
def test_a_folder_of_hostile_files_beside_good_ones_end_to_end(tmp_path: Path) -> None:
    corpus_dir = tmp_path / "corpus"
    hc.write(corpus_dir)
    # names a Windows share or a careless script produce: Latin-1 bytes, a newline; and a FIFO that must not hang
    latin = os.fsencode(corpus_dir) + b"/caf\xe9.json"
    with open(latin, "wb") as fh:
        fh.write(json.dumps(hc.good_json_case("LAT-NAME-1")).encode())
    (corpus_dir / "line\nbreak.json").write_text(json.dumps(hc.good_json_case("NL-1")), encoding="utf-8")
    os.mkfifo(corpus_dir / "pipe.json")
    logs = tmp_path / "logs"
    logs.mkdir()
    before = snapshot(tmp_path, logs)

    stdout, stderr = logs / "stdout", logs / "stderr"
    cmd = [sys.executable, "-m", "audit_cli", "score", "corpus", "-o", "out", "-f", "json"]
    run = subprocess.run([sys.executable, "-c", WRAPPER, str(stdout), str(stderr), *cmd], cwd=tmp_path,
                         capture_output=True, text=True, timeout=180,
                         env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    err_lines = stderr.read_text(encoding="utf-8").splitlines()

    assert stats["rc"] == 1, err_lines
    assert stats["max_rss_mb"] < 400, stats
    assert stats["seconds"] < 120, stats
    assert not any("Traceback" in line for line in err_lines)

    doc = json.loads(stdout.read_text(encoding="utf-8"))
    assert_valid_results(doc)
    assert doc == json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    expected = {f"corpus/{h.name}": h.reason for h in REJECTED}
    assert {r["path"]: r["error"] for r in doc["rejected"]} == expected
    for path, reason in expected.items():
        assert f"{path}: rejected: {reason}" in err_lines
    ids = [c["id"] for c in doc["cases"]]
    assert sorted(ids) == sorted(["GOOD-1", "GOOD-2", "GOOD-3", "BOM-1", "D-1", "../../etc/passwd", "CON", "/abs",
                                  "C:\\x", "x" * 600, "nul.xlsx", "CC-1\ufffd\ufffd", "LAT-NAME-1", "NL-1"])
    scores = {c["id"]: c["score"] for c in doc["cases"]}
    assert scores["GOOD-1"] == pytest.approx(100 * (3 * 1 + 2 * 0.5 + 2 * 0) / (3 + 2 + 2))  # A1 w3, A2 w2, B1 w2
    sources = {c["id"]: c["source"] for c in doc["cases"]}
    assert sources["LAT-NAME-1"] == "corpus/caf\ufffd.json" and sources["NL-1"] == "corpus/line\ufffdbreak.json"
    assert not any("pipe.json" in i["path"] for i in doc["inputs"])

    from audit_cli.outputs import safe_name

    used: set[str] = set()
    names = {safe_name(c["id"], used) + ".xlsx" for c in doc["cases"]}
    assert {"___etc_passwd.xlsx", "_CON.xlsx", "_abs.xlsx", "C__x.xlsx", "_nul.xlsx.xlsx"} <= names
    # per-case workbooks: one per case, sanitised names only, all inside out/cases
    assert {p.name for p in (tmp_path / "out" / "cases").iterdir()} == names
    after = snapshot(tmp_path, tmp_path / "out", logs)
    assert after == before  # inputs byte-identical and untouched; nothing written outside --out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {".msp-audit-output", "results.json", "aggregate.xlsx",
                                                              "cases"}


# --------------------------------------------------------------------------- JSON limits


@pytest.mark.parametrize("text,depth_ok", [
    (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, True),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), False),
    (b'{"a": "' + b"[" * 5000 + b'"}', True),  # brackets inside a string are text
    (b'{"a": "\\"' + b"[" * 5000 + b'"}', True),  # an escaped quote does not end the string
    (b'{"a": "\\\\", "b": ' + b"[" * 100 + b"]" * 100 + b"}", False),  # an escaped backslash does
    (b"[" + b"[]," * 5000 + b"[]]", True),  # many siblings are not depth
])
def test_depth_is_measured_outside_strings(text: bytes, depth_ok: bool) -> None:
    if depth_ok:
        parse_json(text)
    else:
        with pytest.raises(ReadError, match=r"^JSON is nested \d+ levels deep; the limit is 64$"):
            parse_json(text)


@pytest.mark.parametrize("data,encoding", [
    ('{"a": 1}'.encode("utf-16-be"), "UTF-16 (big-endian)"),
    ('{"a": 1}'.encode("utf-16-le"), "UTF-16 (little-endian)"),
    ("\ufeff{}".encode("utf-16-be"), "UTF-16 (big-endian)"),
    ('{"a": 1}'.encode("utf-32"), "UTF-32 (little-endian)"),
    ('{"a": 1}'.encode("utf-32-be"), "UTF-32 (big-endian)"),
])
def test_utf16_and_utf32_are_refused_by_name(data: bytes, encoding: str) -> None:
    with pytest.raises(ReadError) as exc:
        parse_json(data)
    assert str(exc.value) == f"JSON file is encoded as {encoding}; save it as UTF-8"


def test_infinity_literals_and_a_long_key_are_refused() -> None:
    for lit in (b"Infinity", b"-Infinity"):
        with pytest.raises(ReadError, match=f"^{lit.decode()} is not a JSON value"):
            parse_json(b'{"a": ' + lit + b"}")
    with pytest.raises(ReadError, match=r"^\(top level\): a key of 1,000,001 characters"):
        parse_json(b'{"' + b"k" * 1_000_001 + b'": 1}')


def test_a_register_over_the_case_limit_is_refused(msp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit_cli.readers import json_reader

    monkeypatch.setattr(json_reader, "MAX_CASES", 3)
    data = json.dumps({"cases": [hc.good_json_case(f"R-{i}") for i in range(4)]}).encode()
    with pytest.raises(ReadError, match="^the register holds 4 cases, more than the 3 a file may hold$"):
        json_reader.read(data, msp, "reg.json")


def test_schema_messages_never_quote_case_values(msp: Any) -> None:
    from audit_cli.readers import json_reader

    doc = {"cases": [{"case": {"case_ref": "R-1", "adult_name": {"first": "Jane Secret"}}, "answers": {"A1": "yes"}},
                     {"case": {"case_ref": "R-2"}, "answers": {"A1": ["Jane Secret"]}, "extra": 1}]}
    r = json_reader.read(json.dumps(doc).encode(), msp, "reg.json")
    messages = [(i.location, i.message) for i in r.issues]
    assert all("Jane" not in m for _, m in messages)
    assert ("cases[0].case.adult_name", "should be text, a number, true/false, null or a list of text, "
            "not an object; this case is not scored") in messages
    assert ("cases[1]", "unexpected key(s) 'extra' (allowed: answers, case, notes, template); "
            "this case is not scored") in messages
    with pytest.raises(ReadError) as exc:
        json_reader.read(json.dumps({"case": "Jane Secret"}).encode(), msp, "one.json")
    assert str(exc.value) == "case: should be an object, not text"


def test_unknown_keys_are_reported_up_to_a_bound(msp: Any) -> None:
    from audit_cli.readers import json_reader

    doc = {"case": {"case_ref": "K-1", **{f"extra{i}": "x" for i in range(500)}}, "answers": {"A1": "yes"}}
    r = json_reader.read(json.dumps(doc).encode(), msp, "k.json")
    (case,) = r.cases
    codes = [i.code for i in case.issues]
    assert codes.count("unknown-field") == json_reader.MAX_UNKNOWN_KEYS
    assert case.issues[-1].message == "480 more unknown keys are ignored"


# --------------------------------------------------------------------------- zip and XML checks


def check_every_part(data: bytes, suffix: str) -> None:
    """``safety.check``, then every part asked for, as if a reader needed them all: a part's
    content is checked when it is first asked for."""
    parts = safety.check(data, suffix)
    assert parts is not None
    for name in parts:
        parts[name]


def test_honest_office_files_pass_the_checks() -> None:
    check_every_part(hc.council_xlsx(), ".xlsx")
    check_every_part(hc.council_xlsx(), ".xlsm")
    check_every_part(hc.council_docx(), ".docx")
    check_every_part(hc.with_shared_strings(hc.council_xlsx(), hc.shared_strings_with("", "plain")), ".xlsx")


def test_a_zip_written_with_data_descriptors_is_not_taken_for_a_lying_one() -> None:
    """Streaming writers put sizes after the data (flag bit 3) and zeros in the local header."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.buf += bytes(b)
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as out:
        for info, content in hc.members(hc.council_xlsx()):
            out.writestr(info.filename, content)
    data = bytes(sink.buf)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())
    check_every_part(data, ".xlsx")


@pytest.mark.parametrize("limit,value,message", [
    ("MAX_MEMBER_BYTES", 5000, "part xl/theme/theme1.xml would unpack to 0.0 MB, over the 0 MB limit"),
    ("MAX_TOTAL_BYTES", 12000, "the parts would unpack to more than 0 MB in total"),
])
def test_size_limits_use_the_declared_sizes(limit: str, value: int, message: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, limit, value)
    with pytest.raises(ReadError) as exc:
        safety.check(hc.council_xlsx(), ".xlsx")
    assert str(exc.value) == message


@pytest.mark.parametrize("names,message", [
    (["mimetype", "content.xml"], "this is an OpenDocument file (LibreOffice), not an Excel workbook: "
                                  "open it and save as .xlsx"),
    (["[Content_Types].xml", "ppt/presentation.xml"], "this is a PowerPoint presentation, not an Excel workbook"),
    (["photo.jpg"], "not a valid .xlsx file (a zip archive without Excel content)"),
    ([], "not a valid .xlsx file (a zip archive without Excel content)"),
])
def test_other_zip_archives_are_named(names: list[str], message: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in names:
            zf.writestr(n, "<x/>")
    with pytest.raises(ReadError) as exc:
        safety.check(buf.getvalue(), ".xlsx")
    assert str(exc.value) == message


@pytest.mark.parametrize("xml,verdict", [
    (b'<?xml version="1.0"?><worksheet/>', "ok"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<worksheet/>', "ok"),
    (b'<?xml version="1.0"?><!DOCTYPE x><x/>', "doctype"),
    (b'<?xml version="1.0"?><!doctype x><x/>', "doctype"),
    (b"<!-- <root> --><!DOCTYPE x><x/>", "doctype"),  # markup inside a comment hides nothing
    (b'<?pi <root>?><!ENTITY x "y"><x/>', "doctype"),
    (b"<?xml version='1.0'?><!-- unfinished", None),
    (b"<!-", None),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><x/>'.encode("utf-16"), "doctype"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><x/>'.encode("utf-16-be"), "doctype"),
    ('<?xml version="1.0"?><!DOCTYPE x><x/>'.encode("utf-32"), "doctype"),
])
def test_prolog_scanner(xml: bytes, verdict: str | None) -> None:
    assert safety._prolog_verdict(xml) == verdict


def test_a_prolog_too_long_to_judge_is_refused() -> None:
    sheet = b'<?xml version="1.0"?>' + b"<!--" + b" " * (70 * 1024)
    data = hc.rezip(hc.council_xlsx(), {hc.SHEET: sheet})
    with pytest.raises(ReadError, match=r"^part xl/worksheets/sheet1.xml has an XML prolog over 64 KB long"):
        check_every_part(data, ".xlsx")


def test_a_doctype_in_a_relationships_part_is_refused() -> None:
    rels = b'<?xml version="1.0"?>' + hc.XXE.encode() + b"<Relationships/>"
    with pytest.raises(ReadError, match=r"^part _rels/.rels declares a DOCTYPE"):
        check_every_part(hc.rezip(hc.council_xlsx(), {"_rels/.rels": rels}), ".xlsx")


def test_part_names_in_messages_are_printable_and_bounded() -> None:
    assert safety.part_name("a\nb\x00c") == "a?b?c"
    assert len(safety.part_name("x" * 500)) == 80


def test_an_unknown_ole_file_and_a_doc_behind_xlsx_say_how_to_fix_them() -> None:
    with pytest.raises(ReadError) as exc:
        safety.check(hc.ole_file({"Contents": b"x"}), ".xlsx")
    assert str(exc.value) == ("not an Excel workbook: an OLE compound file (a password-protected Office file or a "
                              "legacy .xls/.doc); open it and save it without a password as .xlsx")
    with pytest.raises(ReadError) as exc:
        safety.check(hc.ole_file({"WordDocument": b"x"}), ".xlsx")
    assert str(exc.value) == ("this is a legacy Word 97-2003 (.doc) document, not an Excel workbook: "
                              "open it in Word and save as .docx")


def test_openpyxl_and_python_docx_refuse_entities_even_without_the_precheck() -> None:
    """Defence in depth: the libraries must not expand entities if a DOCTYPE slipped past."""
    import openpyxl
    from docx import Document

    assert openpyxl.DEFUSEDXML is True  # defusedxml is installed and openpyxl uses it
    laughs = hc.rezip(hc.council_xlsx(), {hc.SHEET: hc.sheet_with(hc.BILLION_LAUGHS, "&lol9;")})
    with pytest.raises(Exception) as exc:
        openpyxl.load_workbook(io.BytesIO(laughs))
    chain: list[str] = []
    e: BaseException | None = exc.value
    while e is not None:
        chain.append(type(e).__name__)
        e = e.__cause__ or e.__context__
    assert "EntitiesForbidden" in chain
    docx = hc.council_docx()
    xxe = hc.rezip(docx, {hc.DOC: hc.document_with(docx, hc.XXE, "&xxe;")})
    paragraphs = [p.text for p in Document(io.BytesIO(xxe)).paragraphs]
    assert paragraphs == ["MSP case file audit", "Case notes", ""]  # the entity is not resolved
    laughs_doc = hc.rezip(docx, {hc.DOC: hc.document_with(docx, hc.BILLION_LAUGHS, "&lol9;")})
    with pytest.raises(Exception, match="amplification"):
        Document(io.BytesIO(laughs_doc))


def xxe_in_a_field() -> bytes:
    """A form whose case reference would be /etc/passwd if an entity were resolved."""
    row = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Case reference</t></is></c>'
           '<c r="B1" t="inlineStr"><is><t>&xxe;</t></is></c></row>')
    sheet = hc.sheet_with(hc.XXE, "x").replace(b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',
                                               row.encode())
    return hc.rezip(hc.council_xlsx(), {hc.SHEET: sheet})


DOCTYPED = [h for h in REJECTED if "DOCTYPE" in (h.reason or "")] + [
    hc.Hostile("xxe-field.xlsx", xxe_in_a_field(), None, "an external entity as the case reference")]


@pytest.mark.parametrize("h", DOCTYPED, ids=[h.name for h in DOCTYPED])
def test_the_readers_resolve_no_entity_even_without_the_precheck(h: hc.Hostile, msp: Any) -> None:
    """Defence in depth: if a DOCTYPE slipped past ``safety``, the readers' own parsers must
    neither expand entities (billion laughs) nor fetch them (XXE)."""
    from audit_cli.readers import excel_reader, word_reader

    reader = excel_reader if h.name.endswith(".xlsx") else word_reader
    try:
        result = reader.read(h.data, msp, h.name)
    except ReadError as exc:
        assert "\n" not in str(exc)
        return
    for case in result.cases:
        texts = [case.id, *map(str, case.fields.values()), case.notes or ""]
        texts += [t or "" for a in case.answers.values() for t in (a.raw, a.evidence, a.comment)]
        assert not any("root:" in t or "lol" * 10 in t for t in texts), texts


# --------------------------------------------------------------------------- isolation


@pytest.mark.parametrize("exc", [MemoryError(), RecursionError(), ValueError("Jane Secret lives at 1 High St"),
                                 KeyError("Jane Secret"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "Jane")])
def test_any_reader_failure_rejects_that_file_only(exc: BaseException, tmp_path: Path, msp: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps(hc.good_json_case("A-1")), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(hc.good_json_case("B-1")), encoding="utf-8")
    real = api.read_bytes

    def flaky(data: bytes, suffix: str, template: Any, source: str) -> Any:
        if source == "a.json":
            raise exc
        return real(data, suffix, template, source)

    monkeypatch.setattr(api, "read_bytes", flaky)
    report = run_audit([tmp_path], msp)
    (rejected,) = report.rejected
    assert rejected.path == "a.json"
    assert "\n" not in rejected.error and "Jane" not in rejected.error and len(rejected.error) <= 300
    assert [c["id"] for c in report.cases] == ["B-1"]


def test_a_scoring_failure_rejects_that_file_only(tmp_path: Path, msp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for ref in ("A-1", "B-1"):
        (tmp_path / f"{ref}.json").write_text(json.dumps(hc.good_json_case(ref)), encoding="utf-8")
    real = api.score_case

    def flaky(template: Any, case: Any) -> Any:
        if case.id == "A-1":
            raise ZeroDivisionError("A-1 Jane")
        return real(template, case)

    monkeypatch.setattr(api, "score_case", flaky)
    report = run_audit([tmp_path], msp)
    assert [(r.path, r.error) for r in report.rejected] == [
        ("A-1.json", "cannot be read (unexpected ZeroDivisionError in the json reader; please report it)")]
    assert [c["id"] for c in report.cases] == ["B-1"]


def test_an_oversized_file_is_rejected_before_it_is_read(tmp_path: Path, msp: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048)
    outcome = process_file(path, msp, max_bytes=1024)
    assert outcome.record.error == "file is 0.0 MB, over the 0 MB limit"
    from audit_cli.readers import json_reader

    monkeypatch.setattr(json_reader, "MAX_JSON_BYTES", 1000)
    assert process_file(path, msp).record.error == "JSON file is 0.0 MB, over the 0 MB limit"


# --------------------------------------------------------------------------- errors inside a readable case


def test_errors_inside_a_readable_case_stay_at_their_location_and_exit_1(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from audit_cli.cli import app

    monkeypatch.chdir(tmp_path)
    doc = {"case": {"case_ref": "E-1", "concern_date": "31/02/2026", "lacked_capacity": "Perhaps"},
           "answers": {"A1": "yes", "A2": "Maybe", "B1": "no"}}
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "e.json").write_text(json.dumps(doc), encoding="utf-8")
    res = CliRunner().invoke(app, ["score", "cases", "-o", "out", "-f", "json"])
    assert res.exit_code == 1
    (case,) = json.loads(res.stdout)["cases"]
    errors = {(i["code"], i["location"]) for i in case["issues"] if i["severity"] == "error"}
    assert errors == {("bad-field-value", "case.concern_date"), ("bad-field-value", "case.lacked_capacity"),
                      ("unknown-answer", "answers.A2")}
    assert case["criteria"]["A2"]["status"] == "unanswered"
    assert case["criteria"]["A1"]["status"] == "scored" and case["criteria"]["B1"]["status"] == "scored"
    assert case["score"] == pytest.approx(100 * 3 / 5)  # A1 (w3) yes, B1 (w2) no
    assert "e.json: answers.A2: error: 'Maybe' is not an answer for A2" in res.stderr


# --------------------------------------------------------------------------- past the checks: the readers


@pytest.mark.skipif(sys.platform == "win32", reason="RUSAGE_CHILDREN is POSIX")
def test_files_that_pass_the_checks_are_handled_by_the_readers_in_bounded_time(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cases = hc.reader_level()
    for h in cases:
        (folder / h.name).write_bytes(h.data)
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    cmd = [sys.executable, "-m", "audit_cli", "score", "in", "-o", "out", "-f", "json"]
    run = subprocess.run([sys.executable, "-c", WRAPPER, str(stdout), str(stderr), *cmd], cwd=tmp_path,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["rc"] == 1 and stats["max_rss_mb"] < 400 and stats["seconds"] < 120, stats
    assert "Traceback" not in stderr.read_text(encoding="utf-8")
    doc = json.loads(stdout.read_text(encoding="utf-8"))
    records = {i["path"]: i for i in doc["inputs"]}
    for h in cases:
        rec = records[f"in/{h.name}"]
        if h.reason is None:
            assert rec["status"] == "read", (h.name, rec["error"])
        else:
            assert rec["status"] == "rejected" and rec["error"].startswith(h.reason), (h.name, rec["error"])
            assert "unexpected" not in rec["error"]
    by_id = {c["id"]: c for c in doc["cases"]}
    assert set(by_id) == {"NS-0042", "NS-0060", "NS-0050"}
    marks = by_id["NS-0050"]
    assert [(i["code"], i["location"], i["message"]) for i in marks["issues"] if i["severity"] == "error"] == [
        ("multiple-marks", "Audit!A7", "A2: 2 options are marked (Yes, No)")]
    assert marks["criteria"]["A2"]["status"] == "unanswered"
    assert marks["score"] == pytest.approx(100 * (3 * 1 + 2 * 0.5) / (3 + 2))  # A1 yes (w3), A3 partly (w2)


def test_a_part_that_inflates_past_its_declared_size_is_refused_in_bounded_memory() -> None:
    """``zipfile.read()`` inflates a whole chunk of compressed data before trimming it to the
    stated size; the check stops one byte past it, which keeps such a file bounded."""
    import tracemalloc

    data = hc.consistent_liar()
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as exc:
            check_every_part(data, ".xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(exc.value) == (f"part {hc.SHEET} unpacks to more than the 3,000 bytes its headers state "
                              "(a damaged or tampered file)")
    assert peak < 2 * hc.MB  # the part inflates to 30 MB


@pytest.mark.parametrize("head,suffix,message", [
    (b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook/>', ".xlsx",
     "not an Excel workbook (looks like an Excel 2003 XML spreadsheet): open it and save as .xlsx"),
    (b"<html><body><table><tr><td>NS-1</td></tr></table></body></html>", ".xlsx",
     "not an Excel workbook (looks like an HTML page): open it and save as .xlsx"),
    (b'{"case": {}}', ".docx", "not a Word document (looks like a JSON file)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", ".docx", "not a Word document (looks like an image)"),
    (bytes(range(256)) * 4, ".xlsx", "not a valid .xlsx file (not a zip archive)"),
    ("Réf;Équipe\nNS-1;Nord\n".encode("cp1252"), ".xlsx",
     "not an Excel workbook (looks like a CSV file): open it and save as .xlsx"),
])
def test_what_a_non_zip_file_looks_like_is_named(head: bytes, suffix: str, message: str) -> None:
    with pytest.raises(ReadError) as exc:
        safety.check(head, suffix)
    assert str(exc.value) == message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_where_a_case_file_was_found_is_rejected_not_waited_on(tmp_path: Path, msp: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.json")
    outcome = process_file(tmp_path / "pipe.json", msp)  # would block forever in a plain open()
    assert (outcome.record.status, outcome.record.error) == ("rejected", "not a regular file")
