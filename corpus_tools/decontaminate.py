"""Benchmark decontamination: the documents that share a long n-gram span with a benchmark item.

A document is contaminated when it shares `ngram` (13) consecutive tokens with an item of a
benchmark file: 13 words of space-separated text, 13 characters of Chinese, both at once across a
boundary. Tokens are dedup's shingle tokens (corpus_tools.minhash.token_bounds): each CJK
character is one, and so is each run of other characters between punctuation, whitespace or CJK.
Both sides are normalized first (`normalize`: HTML entities decoded, NFKC, case folded), and
punctuation and whitespace only separate tokens, so a copy with other case, spacing, line breaks,
full-width forms or entities (`&amp;`) is still found, while a shared phrase shorter than 13 tokens
is not. A text shorter than 13 tokens has no n-gram: a benchmark item that short cannot be matched
(counted as `short_items`).

An item's text is its chosen fields (`benchmark_fields`; default every string field and list of
strings, in the record's order) joined by line breaks, so a span that runs from a question into
its answer counts too.

Hashing. Each token is hashed as a 64-bit polynomial of its code points and each n-gram as a
polynomial of its tokens' hashes, both from prefix sums over a whole chunk of texts (numpy, no
per-token Python), then mixed (corpus_tools.text.mix64). Two distinct n-grams collide with
probability ~2**-64: over 10^6 benchmark n-grams and 10^12 corpus n-grams, about one false match in
twenty such corpora.

The index (`BenchmarkIndex`) is built once, on the driver: every benchmark n-gram's hash, sorted
and unique, with the item it first came from (so an n-gram two benchmarks share counts for the first
one named); 12 bytes an n-gram: 10k items of 100-200 tokens are 1-2 M n-grams, 12-24 MB. Spark broadcasts it; tasks stream the corpus through
`Decontaminator.find`, one binary search per corpus n-gram, so a task's memory depends on its
batches and the index, never on the corpus.
"""
from __future__ import annotations

import gzip
import hashlib
import html
import json
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools import config as config_lib
from corpus_tools import storage
from corpus_tools.config import ConfigError, NonNegativeInt, PositiveInt
from corpus_tools.minhash import joined_codepoints, text_chunks, token_bounds
from corpus_tools.readers import InputConfig, file_format
from corpus_tools.text import hash_powers, mix64

REASON = "contaminated:"  # drop_reason = REASON + the benchmark's file name
CHUNK_CHARS = 1 << 16  # texts are hashed in chunks of about this many characters (cached power tables)

# The columns rejected/ adds to the input's.
MATCH_FIELDS = [
    pa.field("drop_reason", pa.string()),  # contaminated:<benchmark file>
    pa.field("benchmark_item", pa.int64()),  # row of the first matched item in that file (0-based)
    pa.field("matched_span", pa.string()),  # the first shared span, as normalized
    pa.field("matched_ngrams", pa.int32()),  # the document's n-grams found in that benchmark
]


@dataclass
class DecontaminateConfig:
    input: InputConfig = field(default_factory=InputConfig)
    benchmarks: list[str] = field(default_factory=list)  # JSONL(.gz/.zst) or Parquet files, local or s3://
    # Fields that make an item's text; empty: every string (or list of strings) field.
    benchmark_fields: list[str] = field(default_factory=list)
    ngram: PositiveInt = 13  # tokens in a shared span: words, or characters of CJK
    samples: NonNegativeInt = 5  # matched spans reported per benchmark in stats.json
    batch_rows: PositiveInt = 2048

    @classmethod
    def from_dict(cls, data: dict | None) -> "DecontaminateConfig":
        return config_lib.load(cls, data)


def normalize(text: str) -> str:
    """What both sides are compared as: entities decoded, NFKC (full-width forms become ASCII),
    case folded."""
    if "&" in text:
        text = html.unescape(text)
    return unicodedata.normalize("NFKC", text).casefold()


# ---------------------------------------------------------------- n-grams

@dataclass
class NGrams:
    """The n-grams of a chunk of texts: `hashes[i]` belongs to text `owner[i]` and spans
    `joined[start[i]:end[i]]` of the normalized texts joined by line breaks."""

    hashes: np.ndarray  # uint64
    owner: np.ndarray  # int64, index of the text in the chunk
    start: np.ndarray  # int64 code point offsets into `joined`
    end: np.ndarray
    joined: str


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    return hash_powers(1 << size.bit_length() if size < CHUNK_CHARS else size)


def ngrams(normalized: list[str], n: int) -> NGrams:
    """Every n-gram (with repeats) of already `normalize`d texts, in order; a text of fewer than
    `n` tokens has none."""
    joined = "\n".join(normalized)
    cp = joined_codepoints(normalized)
    first, last = token_bounds(cp)
    powers, inverse = _powers(len(cp) + 1)
    prefix = np.zeros(len(cp) + 1, dtype=np.uint64)
    np.cumsum(cp.astype(np.uint64) * powers[: len(cp)], out=prefix[1:])
    ends = last + 1
    tokens = mix64(((prefix[ends] - prefix[first]) * inverse[first]) ^ (ends - first).astype(np.uint64))

    lengths = np.fromiter(map(len, normalized), dtype=np.int64, count=len(normalized))
    text_start = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    text_of_token = np.searchsorted(text_start, first, side="right") - 1
    per_text = np.bincount(text_of_token, minlength=len(normalized))
    first_token = np.concatenate(([0], np.cumsum(per_text)))
    rank = np.arange(len(first)) - first_token[text_of_token]
    starts = np.flatnonzero(rank <= per_text[text_of_token] - n)  # tokens that begin an n-gram

    m = len(tokens)
    powers, inverse = _powers(m + 1)
    token_prefix = np.zeros(m + 1, dtype=np.uint64)
    np.cumsum(tokens * powers[:m], out=token_prefix[1:])
    hashes = mix64(((token_prefix[starts + n] - token_prefix[starts]) * inverse[starts]) ^ np.uint64(n))
    return NGrams(hashes, text_of_token[starts], first[starts], last[starts + n - 1] + 1, joined)


# ---------------------------------------------------------------- benchmarks

def read_records(path: str) -> list[dict]:
    """The records of a benchmark file: JSONL (.gz/.zst) or Parquet; a bad line is a ConfigError
    naming it (a benchmark is configuration: it must be read whole)."""
    fmt, compression = file_format(path)
    if fmt == "parquet":
        return storage.parquet_file(path).read().to_pylist()
    if fmt != "jsonl":
        raise ConfigError(f"{path}: a benchmark must be JSONL (.jsonl[.gz|.zst]) or Parquet")
    data = storage.read_bytes(path)
    if compression == "gzip":
        data = gzip.decompress(data)
    elif compression == "zstd":
        import zstandard

        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    records = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ConfigError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records


def item_text(record: dict, fields: list[str]) -> str | None:
    """The chosen fields of one item joined by line breaks; None when it has none of them."""
    parts = []
    for name in fields or record:
        value = record.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            parts.extend(value)
    return "\n".join(parts) if parts else None


def benchmark_name(path: str) -> str:
    return storage.basename(path)


@dataclass
class BenchmarkIndex:
    """The n-grams of every benchmark item: sorted unique hashes and the (global) item each came
    from first; `item_base[b]` is benchmark b's first global item number."""

    ngram: int
    names: list[str]
    keys: np.ndarray  # uint64, sorted, unique
    items: np.ndarray  # uint32, global item number per key
    item_base: np.ndarray  # int64, len(names) + 1
    summary: list[dict]  # per benchmark: file, items, short_items, items_without_fields, ngrams

    @classmethod
    def build(cls, paths: list[str], fields: list[str], n: int) -> "BenchmarkIndex":
        if not paths:
            raise ConfigError("no benchmark given: name one or more files with --benchmark (or `benchmarks`)")
        names = [benchmark_name(p) for p in paths]
        repeated = sorted({x for x in names if names.count(x) > 1})
        if repeated:
            raise ConfigError(f"two benchmarks are named {repeated[0]!r}: drop reasons name the file, so give them "
                              "different names")
        hashes, owners, base, summary = [], [], [0], []
        for path in paths:
            records = read_records(path)
            texts = [item_text(r, fields) for r in records]
            if fields and all(t is None for t in texts):
                seen = sorted({k for r in records for k in r})
                raise ConfigError(f"{path}: no item has any of the fields {fields} (its fields: {seen})")
            normalized = [normalize(t) if t is not None else "" for t in texts]
            counts, grams = np.zeros(len(texts), dtype=np.int64), 0
            for begin, end in text_chunks(normalized, CHUNK_CHARS):
                g = ngrams(normalized[begin:end], n)
                hashes.append(g.hashes)
                owners.append((g.owner + begin + base[-1]).astype(np.uint32))
                counts[begin:end] += np.bincount(g.owner, minlength=end - begin)
                grams += len(g.hashes)
            if not grams:
                raise ConfigError(f"{path}: no item has {n} tokens or more, so nothing in it can be matched")
            missing = sum(t is None for t in texts)
            summary.append({"file": path, "items": len(records), "short_items": int((counts == 0).sum()) - missing,
                            "items_without_fields": missing, "ngrams": grams})
            base.append(base[-1] + len(records))
        keys = np.concatenate(hashes)
        items = np.concatenate(owners)
        order = np.argsort(keys, kind="stable")  # stable: the first item of a shared n-gram is kept
        keys, items = keys[order], items[order]
        first = np.concatenate(([True], keys[1:] != keys[:-1]))
        for entry, lo, hi in zip(summary, base, base[1:]):
            mine = (items >= lo) & (items < hi)
            entry["distinct_ngrams"] = int(np.unique(keys[mine]).size)
        return cls(n, names, keys[first], items[first], np.asarray(base, dtype=np.int64), summary)

    def digest(self) -> str:
        """What the index holds, for a stage's identity: a benchmark edited in place re-runs."""
        h = hashlib.sha256(json.dumps([self.ngram, self.names]).encode())
        h.update(self.keys.tobytes())
        h.update(self.items.tobytes())
        return h.hexdigest()

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions of `hashes` found in the index, the global item of each)."""
        if not len(hashes):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        found = np.flatnonzero(self.keys[pos] == hashes)
        return found, self.items[pos[found]].astype(np.int64)

    def benchmark_of(self, items: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.item_base, items, side="right") - 1


# ---------------------------------------------------------------- documents

@dataclass
class Match:
    """A contaminated document: the benchmark it shares the most n-grams with, how many, and its
    first shared span with that benchmark; `hits` counts n-grams per benchmark hit."""

    benchmark: int
    item: int  # row in the benchmark's file
    span: str
    ngrams: int
    hits: dict[int, int]


class Decontaminator:
    def __init__(self, index: BenchmarkIndex):
        self.index = index

    def find(self, texts: list[str | None]) -> list[Match | None]:
        """Per text, its Match or None."""
        out: list[Match | None] = [None] * len(texts)
        normalized = [normalize(t) if t else "" for t in texts]
        for begin, end in text_chunks(normalized, CHUNK_CHARS):
            g = ngrams(normalized[begin:end], self.index.ngram)
            found, items = self.index.lookup(g.hashes)
            if not len(found):
                continue
            owners, benchmarks = g.owner[found], self.index.benchmark_of(items)
            for doc in np.unique(owners).tolist():
                mine = np.flatnonzero(owners == doc)
                per_benchmark = np.bincount(benchmarks[mine], minlength=len(self.index.names))
                top = int(per_benchmark.argmax())  # most shared n-grams; ties: the first benchmark
                first = mine[np.flatnonzero(benchmarks[mine] == top)[0]]
                span = " ".join(g.joined[g.start[found[first]]:g.end[found[first]]].split())  # one line, for review
                out[begin + doc] = Match(top, int(items[first] - self.index.item_base[top]), span,
                                         int(per_benchmark[top]),
                                         {b: int(c) for b, c in enumerate(per_benchmark.tolist()) if c})
        return out

    def reason(self, match: Match) -> str:
        return REASON + self.index.names[match.benchmark]


def rejected_schema(source: pa.Schema) -> pa.Schema:
    """rejected/ columns: the input's and the match (`MATCH_FIELDS`, replacing same-named ones)."""
    replaced = {f.name for f in MATCH_FIELDS}
    return pa.schema([f for f in source if f.name not in replaced] + MATCH_FIELDS)


def split_batch(batch: pa.RecordBatch, text_column: str, finder: Decontaminator):
    """(kept rows as they were, rejected rows with their match columns, the matches found)."""
    matches = finder.find(batch.column(text_column).to_pylist())
    hit = pa.array([m is not None for m in matches], pa.bool_())
    found = [m for m in matches if m is not None]
    kept = batch.filter(pc.invert(hit))
    rejected = batch.filter(hit)
    schema = rejected_schema(batch.schema)
    columns = {f.name: rejected.column(f.name) for f in batch.schema if f.name in schema.names}
    columns.update({
        "drop_reason": pa.array([finder.reason(m) for m in found], pa.string()),
        "benchmark_item": pa.array([m.item for m in found], pa.int64()),
        "matched_span": pa.array([m.span for m in found], pa.string()),
        "matched_ngrams": pa.array([m.ngrams for m in found], pa.int32()),
    })
    return kept, pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema), found
