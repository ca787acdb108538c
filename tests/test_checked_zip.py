"""``safety.check`` hands the Office readers the file's parts (``CheckedZip``), each inflated and
checked when first asked for: what a reader gets from them must be exactly what it would read
from the zip itself, and a part no reader asks for is never inflated."""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import hostile_corpus as hc
import pytest

from audit_cli.errors import ReadError
from audit_cli.readers import excel_reader, read_bytes, safety, word_reader
from audit_cli.readers.safety import CheckedZip, check

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
OFFICE = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".xlsx", ".docx"))


def test_there_are_office_samples() -> None:
    assert {p.suffix for p in OFFICE} == {".xlsx", ".docx"}


@pytest.mark.parametrize("path", OFFICE, ids=lambda p: p.name)
def test_reading_from_the_checked_parts_equals_reading_the_zip(path: Path, msp_core: Any) -> None:
    data = path.read_bytes()
    module = excel_reader if path.suffix == ".xlsx" else word_reader
    direct = module.read(data, msp_core, path.name)
    shared = read_bytes(data, path.suffix, msp_core, path.name)
    assert asdict(shared) == asdict(direct)
    assert shared.cases  # the sample was really read


@pytest.mark.parametrize("path", OFFICE, ids=lambda p: p.name)
def test_every_part_is_the_zip_s_own_bytes_kept_or_not(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        expected = {n: zf.read(n) for n in zf.namelist()}
    for budget in (safety.KEEP_BYTES, 0):  # all XML kept, then nothing kept (inflated on request)
        monkeypatch.setattr(safety, "KEEP_BYTES", budget)
        parts = check(data, path.suffix)
        assert isinstance(parts, CheckedZip)
        assert sorted(parts) == sorted(expected) and len(parts) == len(expected)
        for name, content in expected.items():  # asked twice: the second from what was kept, if kept
            assert name in parts and parts[name] == content and parts[name] == content
        with pytest.raises(KeyError):
            parts["no/such/part.xml"]


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


def test_names_resolve_as_zipfile_resolves_them() -> None:
    """Of two entries with one name the later wins, and a name ends at a NUL byte, as in zipfile."""
    first, second = b'<?xml version="1.0"?><first/>', b'<?xml version="1.0"?><second/>'
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name it is asked to write
        data = _zip([("word/document.xml", first), ("word/document.xml", second),
                     ("word/other.xml\x00.evil", first)])
    parts = check(data, ".docx")
    assert parts is not None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert parts["word/document.xml"] == zf.read("word/document.xml") == second
        assert "word/other.xml" in parts and "word/other.xml" in zf.NameToInfo


def test_json_has_no_parts() -> None:
    assert check(b'{"case": {}}', ".json") is None


def test_a_later_entry_that_is_not_kept_still_wins() -> None:
    """A later entry whose name only resolves to the part's (``…xml\\x00junk``) is not kept from the
    check, yet it is what zipfile reads, so it must be what the reader gets."""
    first, second = b'<?xml version="1.0"?><first/>', b'<?xml version="1.0"?><second/>'
    with pytest.warns(UserWarning):  # zipfile sees the second name as a duplicate of the first
        data = _zip([("word/document.xml", first), ("word/document.xml\x00junk", second)])
    parts = check(data, ".docx")
    assert parts is not None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert parts["word/document.xml"] == zf.read("word/document.xml") == second


# --------------------------------------------------------------------------- checked as asked for

THEME = "xl/theme/theme1.xml"
STYLES = "word/styles.xml"


def test_a_part_is_checked_when_first_asked_for_and_kept() -> None:
    data = hc.patch_crc(hc.council_xlsx(), THEME)
    parts = check(data, ".xlsx")  # the directory is sound: nothing is inflated yet
    assert parts is not None
    with pytest.raises(ReadError, match=rf"^part {THEME} is damaged \(its data does not match its checksum\)$"):
        parts[THEME]
    sheet = parts[hc.SHEET]
    assert parts[hc.SHEET] is sheet  # inflated and checked once


def test_a_damaged_part_no_reader_needs_does_not_cost_the_case(msp_core: Any) -> None:
    """A workbook's theme (or a document's thumbnail) is never inflated, so damage there
    leaves the answers readable."""
    data = hc.patch_crc(hc.council_xlsx(), THEME)
    result = read_bytes(data, ".xlsx", msp_core, "form.xlsx")
    assert [c.id for c in result.cases] == ["NS-0042"]
    assert result.cases[0].answers["A1"].value == "yes"


def _docx_needing_styles(styles: bytes | None = None) -> bytes:
    """The council's document with a heading in a style of its own ("AuditHeading"), which
    only ``word/styles.xml`` can say is not a heading."""
    docx = hc.council_docx()
    doc = {i.filename: c for i, c in hc.members(docx)}[hc.DOC]
    assert b'w:val="Heading2"' in doc
    replace = {hc.DOC: doc.replace(b'w:val="Heading2"', b'w:val="AuditHeading"')}
    if styles is not None:
        replace[STYLES] = styles
    return hc.rezip(docx, replace)


def test_word_styles_are_inflated_only_when_a_paragraph_needs_them(msp_core: Any) -> None:
    damaged = hc.patch_crc(hc.council_docx(), STYLES)
    # Headings in Word's own styles: the styles part is never asked for, so its damage costs nothing.
    assert [c.id for c in read_bytes(damaged, ".docx", msp_core, "form.docx").cases] == ["NS-0043"]
    # A style of the council's own: the part is asked for, checked, and the file refused.
    with pytest.raises(ReadError, match=rf"^part {STYLES} is damaged \(its data does not match its checksum\)$"):
        read_bytes(hc.patch_crc(_docx_needing_styles(), STYLES), ".docx", msp_core, "form.docx")
    # and an honest styles part is read as before
    assert [c.id for c in read_bytes(_docx_needing_styles(), ".docx", msp_core, "form.docx").cases] == ["NS-0043"]


def test_a_doctype_refuses_the_file_even_in_a_part_no_reader_needs(msp_core: Any) -> None:
    """Every part's prolog is read up front (its first KB only): an attack is refused wherever
    it sits, though the part holding it would never be parsed."""
    laughs = b'<?xml version="1.0"?>' + hc.BILLION_LAUGHS.encode() + b"<w:styles/>"
    for data in (hc.rezip(hc.council_docx(), {STYLES: laughs}), _docx_needing_styles(laughs)):
        with pytest.raises(ReadError) as exc:
            read_bytes(data, ".docx", msp_core, "form.docx")
        assert str(exc.value) == hc.doctype_reason(STYLES)
    with pytest.raises(ReadError) as exc:  # and so does check() itself, before any reader runs
        check(hc.rezip(hc.council_xlsx(), {THEME: b'<?xml version="1.0"?>' + hc.XXE.encode() + b"<a:theme/>"}),
              ".xlsx")
    assert str(exc.value) == hc.doctype_reason(THEME)


def test_a_hostile_part_a_reader_asks_for_rejects_the_file(msp_core: Any) -> None:
    """A Word document's relationships are read to find its body, so a DOCTYPE there is refused
    as it always was; so is a damaged document body."""
    rels = b'<?xml version="1.0"?>' + hc.XXE.encode() + b"<Relationships/>"
    with pytest.raises(ReadError) as exc:
        read_bytes(hc.rezip(hc.council_docx(), {"_rels/.rels": rels}), ".docx", msp_core, "form.docx")
    assert str(exc.value) == hc.doctype_reason("_rels/.rels")
    with pytest.raises(ReadError, match=r"^part word/document.xml is damaged \(its data does not match its checksum\)$"):
        read_bytes(hc.patch_crc(hc.council_docx(), hc.DOC), ".docx", msp_core, "form.docx")
