"""Reading a corpus folder: each format, the metadata sidecar, and bad files reported by name."""

from __future__ import annotations

import hashlib
import io
import json
import socket
from pathlib import Path

import pypdf
import pytest

from qa.blocks import Block, BlockKind
from qa.documents import (
    METADATA_FILE,
    DocumentMetadata,
    DocumentReadError,
    file_checksum,
    list_corpus_files,
    load_corpus,
    read_document,
    read_metadata,
)

BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"

ARTICLE_HTML = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>Overseas police stations report</title>
<meta property="og:site_name" content="Example Times">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sports">Sports</a></li></ul></nav>
<article>
<h1>Overseas police stations report</h1>
<p>Safeguard Defenders found more than one hundred overseas police stations in fifty-three
countries, the human rights group said in its report published on Monday.</p>
<p>The stations were used to pressure Chinese nationals living abroad to return home,
according to the report.</p>
</article>
<footer>Copyright Example Times</footer>
</body></html>
"""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading documents must never reach the network (trafilatura only gets strings)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted while reading documents")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal real PDF: one Helvetica text line per page, correct xref offsets."""
    page_count = len(pages)
    font_number = 3 + 2 * page_count
    kids = " ".join(f"{3 + 2 * index} 0 R" for index in range(page_count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
    ]
    for index, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        resources = f"<< /Font << /F1 {font_number} 0 R >> >>"
        page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * index} 0 R"
        objects.append(f"{page} /Resources {resources} >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if title is not None:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def test_txt_is_decoded_verbatim_and_titled_by_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("\n  Police stations abroad  \nSecond line, café.\n", encoding="utf-8")

    document = read_document(path)

    assert document.doc_id == "note"
    assert document.format == "txt"
    assert document.raw_text == "\n  Police stations abroad  \nSecond line, café.\n"
    assert document.metadata == DocumentMetadata(title="Police stations abroad")
    assert document.checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_txt_with_bom_or_in_cp1252_is_read(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.txt"
    with_bom.write_bytes("\ufeffHello".encode())
    western = tmp_path / "western.txt"
    western.write_bytes("Déjà vu in München".encode("cp1252"))

    assert read_document(with_bom).raw_text == "Hello"
    assert read_document(western).raw_text == "Déjà vu in München"


def test_long_first_line_title_is_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 100, encoding="utf-8")

    assert len(read_document(path).metadata.title) <= 200


def test_markdown_is_read_into_blocks_and_titled_by_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "brief.md"
    path.write_text("# Stations in Europe\n\nSome *emphasis* here.\n", encoding="utf-8")

    document = read_document(path)

    assert document.format == "md"
    assert document.blocks == (
        Block(BlockKind.HEADING, "Stations in Europe", level=1),
        Block(BlockKind.PARAGRAPH, "Some emphasis here."),
    )
    assert document.metadata.title == "Stations in Europe"


def test_html_main_content_is_extracted_without_navigation(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")

    document = read_document(path)

    assert document.format == "html"
    assert "more than one hundred overseas police stations" in document.raw_text
    assert "pressure Chinese nationals" in document.raw_text
    assert "Sports" not in document.raw_text
    assert document.metadata.title == "Overseas police stations report"
    assert document.metadata.publisher == "Example Times"


def test_html_without_main_content_falls_back_to_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "bare.htm"
    path.write_text(
        "<html><head><style>p {color: red}</style><script>var x = 1;</script></head>"
        "<body><span>Only a line</span></body></html>",
        encoding="utf-8",
    )

    document = read_document(path)

    assert document.format == "html"
    assert "Only a line" in document.raw_text
    assert "color" not in document.raw_text
    assert "var x" not in document.raw_text


def test_html_without_any_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text("<html><head><title></title></head><body> </body></html>", encoding="utf-8")

    with pytest.raises(DocumentReadError, match="no text found in HTML"):
        read_document(path)


def test_pdf_pages_are_joined_by_blank_lines_and_titled_from_its_info(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(["First page text", "Second page text"], title="Patrol Report"))

    document = read_document(path)

    assert document.format == "pdf"
    assert document.raw_text == "First page text\n\nSecond page text"
    assert document.metadata.title == "Patrol Report"


def test_pdf_without_info_is_titled_by_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf(["Stations in Canada"]))

    assert read_document(path).metadata.title == "Stations in Canada"


def test_pdf_without_text_is_refused(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as stream:
        writer.write(stream)

    with pytest.raises(DocumentReadError, match="no text found in PDF"):
        read_document(path)


def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["Secret"]))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as stream:
        writer.write(stream)

    with pytest.raises(DocumentReadError, match="encrypted"):
        read_document(path)


def test_sidecar_metadata_wins_and_empty_fields_are_filled_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")

    document = read_document(path, DocumentMetadata(title="From the sidecar", published="2023"))

    assert document.metadata == DocumentMetadata(
        title="From the sidecar", publisher="Example Times", published="2023"
    )


def test_unsupported_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "letter.odt"
    path.write_bytes(b"PK\x03\x04")

    with pytest.raises(DocumentReadError, match="unsupported file type '.odt'"):
        read_document(path)


def test_a_damaged_word_file_is_refused_with_its_cause(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(b"PK\x03\x04")

    with pytest.raises(DocumentReadError, match="Word document could not be read"):
        read_document(path)


def test_bad_files_are_reported_by_name_while_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A good document.\n", encoding="utf-8")
    (tmp_path / "good.pdf").write_bytes(make_pdf(["A good PDF"]))
    (tmp_path / "empty.txt").write_text("  \n\t\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (tmp_path / METADATA_FILE).write_text('{"good.txt": {"title": "Good"', encoding="utf-8")

    corpus = load_corpus(tmp_path)

    assert [document.doc_id for document in corpus.documents] == ["good.pdf", "good.txt"]
    assert [document.metadata.title for document in corpus.documents] == [
        "A good PDF",
        "A good document.",
    ]
    reasons = {failure.path.name: failure.reason for failure in corpus.failures}
    assert set(reasons) == {METADATA_FILE, "empty.txt", "binary.txt", "corrupt.pdf"}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert reasons["corrupt.pdf"].startswith("PDF could not be parsed: ")
    assert "not valid JSON" in reasons[METADATA_FILE]


@pytest.mark.parametrize(
    "sidecar, reason",
    [
        ('["a.txt"]', "expected a JSON object"),
        ('{"a.txt": "A title"}', "entry 'a.txt': expected an object"),
        ('{"a.txt": {"titel": "A"}}', "unknown field(s) titel"),
        ('{"a.txt": {"title": 3}}', "'title' must be a string"),
    ],
)
def test_malformed_sidecar_is_explained(tmp_path: Path, sidecar: str, reason: str) -> None:
    (tmp_path / METADATA_FILE).write_text(sidecar, encoding="utf-8")

    with pytest.raises(DocumentReadError) as raised:
        read_metadata(tmp_path)
    assert reason in str(raised.value)


def test_sidecar_is_keyed_by_relative_path_and_null_means_unknown(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Body text\n", encoding="utf-8")
    (tmp_path / METADATA_FILE).write_text(
        json.dumps({"sub/a.txt": {"title": "Nested", "published": None}}), encoding="utf-8"
    )

    corpus = load_corpus(tmp_path)

    assert corpus.failures == []
    assert corpus.documents[0].metadata == DocumentMetadata(title="Nested")


def test_listing_is_sorted_recursive_and_skips_readme_sidecar_and_hidden(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "README.md", METADATA_FILE, ".hidden.txt", "photo.jpg"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.HTML").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "d.txt").write_text("x", encoding="utf-8")

    listed = [path.relative_to(tmp_path).as_posix() for path in list_corpus_files(tmp_path)]

    assert listed == ["a.md", "b.txt", "sub/c.HTML"]


def test_files_sharing_a_stem_are_told_apart_by_their_paths(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Plain\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# Marked\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Nested\n", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("Alone\n", encoding="utf-8")

    corpus = load_corpus(tmp_path)

    ids = [document.doc_id for document in corpus.documents]
    assert ids == ["a.md", "a.txt", "sub/a.txt", "b"]


def test_a_new_file_never_takes_the_id_of_one_already_there(tmp_path: Path) -> None:
    for folder, text in (("a", "Madrid\n"), ("b", "Rome\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text, encoding="utf-8")
    before = {d.doc_id: d.raw_text for d in load_corpus(tmp_path).documents}

    (tmp_path / "0").mkdir()  # sorts first, and shares the stem
    (tmp_path / "0" / "notes.txt").write_text("Oslo\n", encoding="utf-8")
    after = {d.doc_id: d.raw_text for d in load_corpus(tmp_path).documents}

    assert before == {"a/notes.txt": "Madrid\n", "b/notes.txt": "Rome\n"}
    assert after == {**before, "0/notes.txt": "Oslo\n"}


def test_a_stem_that_spells_another_files_path_is_no_id(tmp_path: Path) -> None:
    for name in ("x.txt", "x.md", "x.txt.md"):
        (tmp_path / name).write_text(f"{name}\n", encoding="utf-8")
    ids = [d.doc_id for d in load_corpus(tmp_path).documents]
    assert sorted(ids) == ["x.md", "x.txt", "x.txt.md"]


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_corpus(missing)


def test_bundled_corpus_loads_with_sidecar_titles_and_checksums() -> None:
    sidecar = json.loads((BUNDLED_CORPUS / METADATA_FILE).read_text(encoding="utf-8"))

    corpus = load_corpus(BUNDLED_CORPUS)

    assert corpus.failures == []
    assert len(corpus.documents) == 5
    for document in corpus.documents:
        entry = sidecar[document.path.name]
        assert document.doc_id == document.path.stem
        assert document.metadata == DocumentMetadata(**entry)
        assert document.checksum == hashlib.sha256(document.path.read_bytes()).hexdigest()
        assert document.checksum == file_checksum(document.path)
        assert document.raw_text == document.path.read_text(encoding="utf-8")
    titles = {document.doc_id: document.metadata.title for document in corpus.documents}
    assert titles["000_d30d0659724b2b27"].startswith("Safeguard Defenders offers to help")
    assert corpus.documents[0].metadata.published == "2022-12-22"
