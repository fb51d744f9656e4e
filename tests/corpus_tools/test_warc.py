"""WARC and WET input (corpus_tools.warc, corpus_tools.html): which records become documents and
which are skipped with a reason, every encoding path, damaged records, splitting one crawl across
tasks, listings of crawl files, and object storage. Crawls are written here with
scripts/warc_writer.py (the writer of the sample crawl), from the text of the sample corpus."""
from __future__ import annotations

import gzip
import json
import os
import random
import sys
from collections import Counter

import pytest

from corpus_tools import storage
from corpus_tools.html import decode_html, extract_text
from corpus_tools.readers import InputConfig, InputError, input_files, plan_splits, read_split
from corpus_tools.warc import WebConfig

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from warc_writer import gzip_member, http_request, http_response, record_id, warc_record  # noqa: E402

ZH = ("中国科学院计算技术研究所是中国第一个专门从事计算机科学技术综合性研究的学术机构。"
      "研究所成立以来，在计算机体系结构、网络、软件等方向取得了大量成果，培养了众多人才。")
ZH_TW = "中央研究院是臺灣的最高學術研究機構，設有數理科學、生命科學及人文社會科學三個學組。"
JA = "日本語の文章は、漢字と平仮名と片仮名を組み合わせて書かれる。東京は日本の首都である。"
FR = "Le système de paquets Debian gère les dépendances, les mises à jour et la sécurité des logiciels installés."
EN = "Debian packages are built from source packages by the maintainers and uploaded to the archive."


def page(paragraphs: list[str], title: str = "A page", meta: str | None = None) -> str:
    """A page with its main text in <article> and the boilerplate sites wrap around it."""
    head = f'<meta charset="{meta}">' if meta else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head>{head}<title>{title}</title></head><body>"
            "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li><li><a href='/about'>About</a>"
            f"</li></ul></nav><article><h1>{title}</h1>{body}</article>"
            "<footer><p>Copyright 2026 Example Org. All rights reserved.</p><a href='/privacy'>Privacy</a></footer>"
            "</body></html>")


class Crawl:
    """Builds a WARC file record by record; remembers the ids of the responses that are documents."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.records: list[bytes] = []
        self.documents: list[str] = []

    def add(self, kind: str, payload: bytes, url: str | None = None, **headers) -> str:
        rid = record_id(self.rng)
        fields = {"WARC-Target-URI": url, **headers} if url else headers
        self.records.append(warc_record(kind, fields, payload, rid))
        return rid

    def response(self, url: str, body: bytes, status: int = 200, content_type: str = "text/html",
                 charset: str | None = "utf-8", document: bool = True) -> str:
        self.add("request", http_request(url), url)
        rid = self.add("response", http_response(status, content_type, body, charset), url)
        if document:
            self.documents.append(rid.strip("<>"))
        return rid

    def write(self, path, compressed: bool = True, tail: bytes = b"") -> str:
        data = b"".join(map(gzip_member, self.records)) if compressed else b"".join(self.records)
        with open(path, "wb") as f:
            f.write(data + tail)
        return str(path)


def read(path, cfg=InputConfig(), split_bytes=None):
    """(documents, quarantine records, skipped counts) of reading `path` in splits of `split_bytes`."""
    docs, bad, skipped = [], [], Counter()
    for split in plan_splits([str(path)], split_bytes or cfg.split_bytes):
        for batch in read_split(split, cfg):
            docs += batch.documents.to_pylist()
            bad += batch.quarantine.to_pylist()
            skipped += batch.skipped
    return docs, bad, skipped


# ---------------------------------------------------------------- record types and statuses

def test_each_record_type_and_status_is_a_document_or_a_counted_skip(tmp_path):
    crawl = Crawl()
    crawl.add("warcinfo", b"software: ziya-tests\r\nformat: WARC File Format 1.1\r\n")
    html = page([EN, EN.replace("built", "compiled")]).encode()
    kept = crawl.response("https://example.org/a", html)
    crawl.response("https://example.org/missing", b"<p>gone</p>", status=404, document=False)
    crawl.response("https://example.org/old", b"", status=301, document=False)
    crawl.response("https://example.org/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), content_type="image/png",
                   charset=None, document=False)
    crawl.response("https://example.org/style.css", b"body{}", content_type="text/css", document=False)
    crawl.add("metadata", b"fetchTimeMs: 12\r\n", "https://example.org/a", **{"WARC-Concurrent-To": kept})
    crawl.add("revisit", http_response(200, "text/html", b""), "https://example.org/a",
              **{"WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"})
    xhtml = crawl.response("https://example.org/x", page([FR]).encode(), content_type="application/xhtml+xml")

    docs, bad, skipped = read(crawl.write(tmp_path / "crawl.warc.gz"))
    assert [d["id"] for d in docs] == [kept.strip("<>"), xhtml.strip("<>")]
    assert bad == []
    assert skipped == {"warcinfo": 1, "request": 6, "metadata": 1, "revisit": 1, "http_404": 1, "http_301": 1,
                       "not_html": 2}
    first = docs[0]
    assert first["url"] == "https://example.org/a" and first["source"] == "crawl"
    meta = json.loads(first["meta"])
    assert meta["warc_record_id"] == kept and meta["warc_date"] == "2026-11-20T08:00:00Z"
    assert meta["content_type"] == "text/html" and meta["encoding"] == "utf-8" and meta["encoding_from"] == "header"


def test_wet_conversion_records_are_documents_with_the_response_they_came_from(tmp_path):
    crawl = Crawl()
    crawl.add("warcinfo", b"software: ziya-tests\r\n")
    refers = "<urn:uuid:00000000-0000-4000-8000-000000000001>"
    rid = crawl.add("conversion", f"  {ZH}\r\n\r\n{EN}  \n".encode(), "https://example.cn/zh",
                    **{"WARC-Refers-To": refers})
    docs, bad, skipped = read(crawl.write(tmp_path / "crawl.warc.wet.gz"))
    assert bad == [] and skipped == {"warcinfo": 1}
    assert [d["id"] for d in docs] == [rid.strip("<>")]
    assert docs[0]["text"] == f"{ZH}\n{EN}"  # lines stripped, blank lines gone
    assert json.loads(docs[0]["meta"])["warc_refers_to"] == refers


def test_an_uncompressed_warc_reads_like_a_compressed_one(tmp_path):
    crawl = Crawl()
    for i in range(5):
        crawl.response(f"https://example.org/{i}", page([f"{EN} Page {i}."]).encode())
    plain = read(crawl.write(tmp_path / "crawl.warc", compressed=False))
    packed = read(crawl.write(tmp_path / "crawl.warc.gz"))
    assert [d["text"] for d in plain[0]] == [d["text"] for d in packed[0]] and len(plain[0]) == 5


# ---------------------------------------------------------------- encodings and extraction

ENCODED = [  # (text, codec the bytes are in, charset in the HTTP header, charset in <meta>, expected decoding)
    (ZH, "gbk", "gbk", None, ("gb18030", "header")),
    (ZH, "gbk", None, "gb2312", ("gb18030", "meta")),
    (ZH + "€𠀀", "gb18030", "gb18030", None, ("gb18030", "header")),  # outside GBK: only GB18030 has them
    (ZH, "gbk", None, None, ("gb18030", "detected")),
    (ZH_TW, "big5", "big5", None, ("big5hkscs", "header")),
    (ZH_TW, "big5", None, None, ("big5hkscs", "detected")),
    (JA, "shift_jis", None, "shift_jis", ("cp932", "meta")),
    (JA, "shift_jis", None, None, ("cp932", "detected")),
    (FR, "cp1252", "iso-8859-1", None, ("cp1252", "header")),
    (FR, "cp1252", None, None, ("cp1252", "detected")),
    (ZH, "utf-8", "iso-8859-1", None, ("utf-8", "header_wrong_utf8")),  # a wrong label on a UTF-8 page
    (EN, "utf-8", None, None, ("utf-8", "detected")),
]


@pytest.mark.parametrize("text, codec, header, meta, expected", ENCODED,
                         ids=[f"{c}-{h or 'noheader'}-{m or 'nometa'}" for _, c, h, m, _ in ENCODED])
def test_each_encoding_path_decodes_to_the_page_text(tmp_path, text, codec, header, meta, expected):
    paragraphs = [text] * 3 + [text[::-1]] * 3  # a few hundred bytes, as detection needs
    body = page(paragraphs, meta=meta).encode(codec)
    crawl = Crawl()
    crawl.response("https://example.org/p", body, charset=header)
    docs, bad, _ = read(crawl.write(tmp_path / "crawl.warc.gz"))
    assert bad == [] and len(docs) == 1
    meta_out = json.loads(docs[0]["meta"])
    assert (meta_out["encoding"], meta_out["encoding_from"]) == expected
    for paragraph in paragraphs:
        assert paragraph in docs[0]["text"].splitlines()


def test_a_byte_order_mark_decides_over_a_wrong_declaration():
    text, codec, how = decode_html(b"\xef\xbb\xbf" + page([ZH]).encode("utf-8"), "gbk")
    assert (codec, how) == ("utf-8", "bom") and ZH in text


@pytest.mark.parametrize("extractor", ["resiliparse", "trafilatura"])
def test_main_text_keeps_one_paragraph_a_line_and_drops_navigation_and_footer(extractor):
    paragraphs = [f"{EN} This is paragraph {i}, with enough words to count as content." for i in range(5)]
    lines = extract_text(page(paragraphs, title="Packages"), extractor).splitlines()
    for paragraph in paragraphs:
        assert paragraph in lines
    assert not {"Home", "News", "About", "Privacy"} & set(lines)
    assert not any("All rights reserved" in line for line in lines)


def test_the_extractor_is_a_config_choice(tmp_path):
    crawl = Crawl()
    crawl.response("https://example.org/p", page([EN] * 3).encode())
    path = crawl.write(tmp_path / "crawl.warc.gz")
    for extractor in ("resiliparse", "trafilatura"):
        docs, _, _ = read(path, InputConfig(web=WebConfig(extractor=extractor)))
        assert EN in docs[0]["text"].splitlines()


# ---------------------------------------------------------------- damaged records

def test_a_truncated_final_record_is_quarantined_and_the_records_before_it_kept(tmp_path):
    crawl = Crawl()
    for i in range(20):
        crawl.response(f"https://example.org/{i}", page([f"{EN} Page {i}."]).encode())
    path = crawl.write(tmp_path / "crawl.warc.gz")
    last = gzip_member(warc_record("response", {"WARC-Target-URI": "https://example.org/last"},
                                   http_response(200, "text/html", page([EN] * 40).encode()), "<urn:uuid:last>"))
    good = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(last[: len(last) * 6 // 10])
    docs, bad, _ = read(path)
    assert [d["id"] for d in docs] == crawl.documents
    assert len(bad) == 1 and bad[0]["error"].startswith("truncated_record")
    assert bad[0]["file"] == "crawl.warc.gz" and bad[0]["offset"] == good


def test_a_corrupt_record_is_quarantined_and_reading_goes_on_after_it(tmp_path):
    crawl = Crawl()
    for i in range(10):
        crawl.response(f"https://example.org/{i}", page([f"{EN} Page {i}."]).encode())
    members = [gzip_member(r) for r in crawl.records]
    broken = bytearray(members[9])  # the 5th response (records alternate request, response)
    broken[40:60] = bytes(20)
    members[9] = bytes(broken)
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(b"".join(members))
    docs, bad, skipped = read(path)
    assert [d["id"] for d in docs] == crawl.documents[:4] + crawl.documents[5:]
    assert len(bad) == 1 and bad[0]["error"].startswith("corrupt_record")
    assert bad[0]["offset"] == sum(map(len, members[:9]))
    assert skipped == {"request": 10}


def test_a_response_cut_inside_its_http_headers_is_quarantined(tmp_path):
    crawl = Crawl()
    crawl.response("https://example.org/ok", page([EN]).encode())
    crawl.add("response", b"HTTP/1.1 200 OK\r\nContent-Ty", "https://example.org/cut")
    docs, bad, _ = read(crawl.write(tmp_path / "crawl.warc.gz"))
    assert [d["id"] for d in docs] == crawl.documents
    assert len(bad) == 1 and bad[0]["error"].startswith("truncated_record")


# ---------------------------------------------------------------- splits, listings, object stores

def thousands_of_records(tmp_path, n=3000) -> tuple[str, Crawl]:
    rng = random.Random(3)
    words = (EN + " " + FR).split()
    crawl = Crawl()
    for i in range(n):
        paragraphs = [" ".join(rng.choices(words, k=30)) for _ in range(3)]
        if i % 50 == 7:
            crawl.response(f"https://site{i}.org/", b"", status=404, document=False)
        else:
            crawl.response(f"https://site{i % 97}.org/page/{i}", page(paragraphs, title=f"Page {i}").encode())
    return crawl.write(tmp_path / "big.warc.gz"), crawl


def test_a_crawl_split_across_tasks_reads_as_one_task_does(tmp_path):
    path, crawl = thousands_of_records(tmp_path)
    size = os.path.getsize(path)
    splits = plan_splits([path], split_bytes=size // 7)
    assert len(splits) >= 7 and splits[0].start == 0 and splits[-1].end == size
    one = read(path)
    many = read(path, split_bytes=size // 7)
    assert [d["id"] for d in one[0]] == crawl.documents
    assert many[0] == one[0] and many[1] == one[1] == [] and many[2] == one[2]


def test_a_crawl_in_one_gzip_stream_is_one_split(tmp_path):
    crawl = Crawl()
    for i in range(50):
        crawl.response(f"https://example.org/{i}", page([f"{EN} Page {i}."]).encode())
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(b"".join(crawl.records), mtime=0))  # not split per record
    assert len(plan_splits([str(path)], split_bytes=1000)) == 1
    assert [d["id"] for d in read(path, split_bytes=1000)[0]] == crawl.documents


def write_crawl_tree(root: str, n_files: int = 2) -> list[str]:
    """Common Crawl's layout: crawl-data/CC-MAIN-X/warc.paths.gz naming crawl-data/.../*.warc.gz."""
    entries = []
    for k in range(n_files):
        crawl = Crawl(seed=k)
        for i in range(3):
            crawl.response(f"https://example.org/{k}/{i}", page([f"{EN} File {k}, page {i}."]).encode())
        entry = f"crawl-data/CC-MAIN-2026-48/segments/1/warc/part-{k}.warc.gz"
        with storage.open_output(storage.join(root, entry)) as f:
            f.write(b"".join(map(gzip_member, crawl.records)))
        entries.append(entry)
    listing = storage.join(root, "crawl-data/CC-MAIN-2026-48/warc.paths.gz")
    with storage.open_output(listing) as f:
        f.write(gzip.compress(("\n".join(entries) + "\n").encode(), mtime=0))
    return entries


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    return str(tmp_path) if request.param == "local" else request.getfixturevalue("s3_bucket")


def test_a_paths_listing_stands_for_the_crawl_files_it_names(root):
    entries = write_crawl_tree(root)
    listing = storage.join(root, "crawl-data/CC-MAIN-2026-48/warc.paths.gz")
    files = input_files([listing])
    assert [f.key for f in files] == entries
    assert [f.path for f in files] == [storage.join(root, e) for e in entries]
    assert [f.path for f in input_files([listing], paths_root=root)] == [f.path for f in files]
    docs = [d for f in files for d in read(f.path)[0]]
    assert len(docs) == 6 and all("File" in d["text"] for d in docs)


def test_a_listing_naming_no_files_or_a_missing_one_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.paths"
    empty.write_text("# nothing here\n\n")
    with pytest.raises(InputError, match="the listing names no files"):
        input_files([str(empty)])
    missing = tmp_path / "warc.paths"
    missing.write_text("crawl-data/none.warc.gz\n")
    with pytest.raises(InputError, match="names crawl-data/none.warc.gz, which is not a file"):
        input_files([str(missing)])


def test_a_crawl_on_an_object_store_reads_as_on_disk(tmp_path, s3_bucket):
    path, crawl = thousands_of_records(tmp_path, n=400)
    remote = storage.join(s3_bucket, "crawl/big.warc.gz")
    with storage.open_output(remote) as f, open(path, "rb") as local:
        f.write(local.read())
    size = os.path.getsize(path)
    assert read(remote, split_bytes=size // 3) == read(path, split_bytes=size // 3)


def test_a_body_shorter_than_its_http_content_length_is_quarantined(tmp_path):
    crawl = Crawl()
    crawl.add("response", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<p>cut",
              "https://example.org/short")
    docs, bad, _ = read(crawl.write(tmp_path / "crawl.warc.gz"))
    assert docs == [] and len(bad) == 1
    assert bad[0]["error"] == "truncated_record: 6 of the 5000 bytes its HTTP Content-Length declares"
