"""A directory of hostile input for the stages' real-job tests: each file is one kind of damage a
crawl or a download brings, with what the readers must make of it."""
from __future__ import annotations

import gzip
import json

import zstandard

from corpus_tools.readers import plan_splits, read_split

GOOD = [{"id": f"ok{i}", "text": "The quick brown fox jumps over the lazy dog. " * 30} for i in range(5)]
# non-string ids, and the canonical JSON text they become
ODD_IDS = {"obj": ({"y": 2, "x": 1}, '{"x":1,"y":2}'), "list": ([1, "a"], '[1,"a"]'), "bool": (True, "true")}


def lines(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)  # ASCII: "\ud800" stays an escape


def deep(field: str, levels: int) -> bytes:
    """A record whose `field` is nested `levels` arrays deep, written without recursing."""
    return json.dumps({"id": f"deep-{field}", "text": "fine text", field: "@"}).encode().replace(
        b'"@"', b"[" * levels + b"1" + b"]" * levels) + b"\n"


def write_bad_inputs(root, huge: bool = True) -> None:
    bad = [
        b'{"text": "unterminated\n',
        b'\xff\xfe{"text": "bad bytes"}\n',
        b'{"text": 42}\n',
        b'{"id": "no-text"}\n',
        b'{"id": "empty", "text": ""}\n',
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary junk\n",
    ]
    (root / "mixed.jsonl").write_bytes(lines(GOOD) + b"".join(bad))
    if huge:
        paragraph = "这是一个很长的文档。" * 50 + "\n\n"
        record = {"id": "huge", "text": paragraph * (20_000_000 // len(paragraph.encode()))}
        (root / "huge.jsonl").write_bytes(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    def body(tag: str) -> bytes:
        return lines({**r, "id": f"{tag}-{r['id']}-{n}"} for n in range(200) for r in GOOD)

    (root / "cut.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body("cut-zst"))[:2000])
    gz = gzip.compress(body("cut-gz"))
    (root / "cut.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    # whole streams with bytes after them: every record is read, the garbage quarantined
    garbage = b"<html><body>404 page appended by a proxy</body></html>\n"
    (root / "tail.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines(tail_records("zst"))) + garbage)
    (root / "tail.jsonl.gz").write_bytes(gzip.compress(lines(tail_records("gz"))) + garbage)
    surrogates = [{"id": "s-text", "text": "broken \ud800 pair"}, {"id": "\udfff", "text": "fine text"},
                  {"id": "s-url", "text": "fine text", "url": "https://example.org/\ud800"},
                  {"id": "s-source", "text": "fine text", "source": "web\udc00"},
                  {"id": "s-meta", "text": "fine text", "extra": ["\ud83d"]}]
    (root / "surrogates.jsonl").write_bytes(lines(surrogates))
    (root / "deep.jsonl").write_bytes(b"".join(deep(f, 20_000) for f in ("text", "id", "url", "extra")))
    odd = [{"id": value, "text": f"An odd id of kind {name}. " * 20} for name, (value, _) in ODD_IDS.items()]
    (root / "ids.jsonl").write_bytes(lines(odd))


def tail_records(tag: str) -> list[dict]:
    return [{**r, "id": f"{tag}-{r['id']}"} for r in GOOD]


def count_input_records(paths: list[str]) -> int:
    """Records in the input, counted by the readers alone (documents + unparseable lines)."""
    return sum(b.documents.num_rows + b.quarantine.num_rows for s in plan_splits(paths) for b in read_split(s))
