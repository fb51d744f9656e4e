"""The clean stage as engine-agnostic operations on Arrow batches.

    raw batch ─▶ URL block lists ─▶ preprocess (normalize, split long docs) ─▶ [PII masking] ─▶ language ID
              ─▶ language filter ─▶ document rules ─▶ paragraph/sentence (line) rules ─▶ annotated batch

A document whose URL a block list names (corpus_tools.blocklist) is rejected first, as it was read,
before any normalization or model runs on it.

Ziya2 applies its rules at document, then paragraph, then sentence level: a document the
document rules reject keeps its text as it was, so a reviewer sees what the rule saw.

Every output row carries a `status` (kept / rejected / quarantined), the `drop_reason` of
a rejected row and the signals the rules measured, so thresholds can be studied later
without recomputing. `run_local` drives it without Spark (tests, benchmarks);
`pipelines.clean` drives the same `CleanPipeline` inside Spark tasks.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools import config as config_lib
from corpus_tools import storage
from corpus_tools.blocklist import load_blocklists
from corpus_tools.document import DOCUMENT_SCHEMA
from corpus_tools.filters import apply_filters, build_filters
from corpus_tools.langid import LanguageFilter, LanguageIdentifier
from corpus_tools.normalize import Preprocessor
from corpus_tools.pii import PiiConfig, PiiMasker
from corpus_tools.readers import InputConfig, Split, plan_splits, read_split
from corpus_tools.stats import Stats
from corpus_tools.text import Doc
from corpus_tools.writers import PartWriter

KEPT, REJECTED, QUARANTINED = "kept", "rejected", "quarantined"
PARAGRAPH_LID_CHARS = 300

ANNOTATED_SCHEMA = pa.schema(
    [
        *DOCUMENT_SCHEMA,
        pa.field("segment", pa.int32()),  # index of this segment in its source document
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("lang_share", pa.float32()),  # share of characters in the dominant language
        pa.field("input_chars", pa.int64()),  # before any processing (whole document on segment 0)
        pa.field("n_chars", pa.int64()),  # after processing
        pa.field("signals", pa.map_(pa.string(), pa.float64())),
        pa.field("chars_removed", pa.map_(pa.string(), pa.int64())),  # by line rule
        pa.field("status", pa.string()),
        pa.field("drop_reason", pa.string()),
        # quarantine only
        pa.field("file", pa.string()),
        pa.field("offset", pa.int64()),
        pa.field("error", pa.string()),
        pa.field("raw", pa.string()),
    ]
)
# Each output directory: the status of its rows and the columns it keeps.
KEPT_COLUMNS = [f.name for f in DOCUMENT_SCHEMA] + ["lang", "lang_score", "lang_share", "n_chars", "signals", "chars_removed"]
OUTPUTS = {
    "kept": (KEPT, KEPT_COLUMNS),
    "rejected": (REJECTED, KEPT_COLUMNS + ["drop_reason"]),
    "quarantine": (QUARANTINED, ["source", "file", "offset", "error", "raw"]),
}


def output_schema(name: str) -> pa.Schema:
    return pa.schema([ANNOTATED_SCHEMA.field(c) for c in OUTPUTS[name][1]])


@dataclass
class LangIdConfig(LanguageFilter):
    """Language filter thresholds plus where the fastText model lives (None: the packaged lid.176)."""

    model_path: str | None = None
    # Also identify each paragraph and record the dominant language's share of characters
    # (`lang_share`), which exposes mixed-language documents. Costs a second fastText pass.
    paragraph_share: bool = True


@dataclass
class CleanConfig:
    input: InputConfig = field(default_factory=InputConfig)
    preprocess: Preprocessor = field(default_factory=Preprocessor)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    # filter name -> parameter overrides ({} for defaults), or None/false to disable it;
    # checked by build_filters against each filter's fields.
    filters: dict = field(default_factory=dict)
    # Block lists (files or UT1-layout directories, local or s3://...): a document whose URL they name
    # is rejected as url_blocked_<category> before anything else runs on it (corpus_tools.blocklist).
    url_blocklists: list[str] = field(default_factory=list)
    # PII masking (off by default; `ziya clean --mask-pii`): e-mails, phones, IPs, ID and card numbers
    # become <EMAIL>, <PHONE>... and each segment's counts go to its signals as pii_<kind> (corpus_tools.pii).
    pii: PiiConfig = field(default_factory=PiiConfig)

    @classmethod
    def from_dict(cls, data: dict | None) -> "CleanConfig":
        cfg = config_lib.load(cls, data)
        build_filters(cfg.filters)  # validate filter names and parameters now, on the driver, not in a task
        return cfg


class CleanPipeline:
    """Applies the clean stage to batches. Heavy state (models) loads lazily, once per process."""

    def __init__(self, cfg: CleanConfig):
        self.cfg = cfg
        self.preprocessor = cfg.preprocess
        self.lid = LanguageIdentifier(cfg.langid.model_path)
        # Paragraph shares only weigh languages by characters: a short window per paragraph
        # decides that as well as the whole paragraph, at a fraction of fastText's time.
        self.paragraph_lid = LanguageIdentifier(cfg.langid.model_path, max_chars=PARAGRAPH_LID_CHARS)
        self.doc_filters, self.line_filters = build_filters(cfg.filters)
        # loaded once per process for the same files (a Spark worker's tasks share it)
        self.blocklist = load_blocklists(cfg.url_blocklists) if cfg.url_blocklists else None
        self.pii = PiiMasker(cfg.pii) if cfg.pii.enabled else None

    def process(self, documents: pa.RecordBatch) -> pa.RecordBatch:
        rows = _Rows()
        ids, texts = documents.column("id").to_pylist(), documents.column("text").to_pylist()
        blocked = self._blocked(documents, rows)
        segments = []  # (row of the source document, segment index, id, text)
        for i, (doc_id, text) in enumerate(zip(ids, texts)):
            if i in blocked:
                continue
            normalized = self.preprocessor.normalize(text)
            for k, (seg_id, seg_text) in enumerate(self.preprocessor.split(doc_id, normalized)):
                segments.append((i, k, seg_id, seg_text))
        texts, pii_counts = self._mask_pii([s[3] for s in segments])
        labels, scores = self.lid.predict(texts)
        docs = [Doc(seg_id, text, lang, score) for (_, _, seg_id, _), text, lang, score in zip(segments, texts, labels, scores)]
        for doc, counts in zip(docs, pii_counts):
            doc.signals.update((f"pii_{kind}", float(n)) for kind, n in counts.items())
        shares = self._paragraph_shares(docs)
        base = {name: documents.column(name).to_pylist() for name in ("source", "url", "meta", "text")}
        for (i, k, seg_id, _), doc, share in zip(segments, docs, shares):
            text, removed, reason = self._apply_rules(doc)
            rows.add(
                id=seg_id, text=text, source=base["source"][i], url=base["url"][i], meta=base["meta"][i],
                segment=k, lang=doc.lang, lang_score=doc.lang_score, lang_share=share,
                input_chars=len(base["text"][i]) if k == 0 else 0, n_chars=len(text),
                signals=list(doc.signals.items()), chars_removed=list(removed.items()) or None,
                status=REJECTED if reason else KEPT, drop_reason=reason,
            )
        return rows.batch()

    def _blocked(self, documents: pa.RecordBatch, rows: "_Rows") -> set[int]:
        """Reject the documents whose URL a block list names, as they were read (no language, no
        signals: nothing else ran on them); their rows in the batch."""
        if self.blocklist is None:
            return set()
        reasons = self.blocklist.drop_reasons(documents.column("url").to_pylist())
        blocked = {i for i, reason in enumerate(reasons) if reason}
        if blocked:
            columns = {name: documents.column(name).to_pylist() for name in ("id", "text", "source", "url", "meta")}
            for i in sorted(blocked):
                text = columns["text"][i]
                rows.add(id=columns["id"][i], text=text, source=columns["source"][i], url=columns["url"][i],
                         meta=columns["meta"][i], segment=0, input_chars=len(text), n_chars=len(text), signals=[],
                         status=REJECTED, drop_reason=reasons[i])
        return blocked

    def _mask_pii(self, texts: list[str]) -> tuple[list[str], list[dict[str, int]]]:
        """Mask PII in the segments (PiiMasker), or leave them as they are; matches per kind per segment.

        After preprocessing: NFKC has already made full-width digits and ＠ ASCII, so one set of ASCII
        patterns sees them, and each segment's counts belong to the row written for it (a split falls at
        a paragraph, line or sentence break, which no PII pattern spans). Before language ID and the
        rules: every signal and drop decision is then measured on the text that is written, kept or
        rejected, and a line rule's chars_removed adds up against it; the placeholders are a few ASCII
        words, which move fastText's label far less than the digit runs they replace."""
        if self.pii is None:
            return texts, [{}] * len(texts)
        return self.pii.mask(texts)

    def _paragraph_shares(self, docs: list[Doc]) -> list[float | None]:
        if not self.cfg.langid.paragraph_share:
            return [None] * len(docs)
        multi = [d for d in docs if len(d.paragraphs) > 1]
        shares = iter(share for _, share in self.paragraph_lid.dominant_shares([d.paragraphs for d in multi]))
        return [next(shares) if len(d.paragraphs) > 1 else 1.0 for d in docs]

    def _apply_rules(self, doc: Doc) -> tuple[str, dict[str, int], str | None]:
        """(final text, chars removed per line rule, drop reason or None)."""
        if not doc.text.strip():
            return doc.text, {}, "empty"
        reason = self.cfg.langid.drop_reason(doc.lang, doc.lang_score)
        if reason:
            return doc.text, {}, reason
        result = apply_filters(doc, self.doc_filters, self.line_filters)
        return result.text, result.removed_chars, result.reason


def quarantine_batch(bad: pa.RecordBatch) -> pa.RecordBatch:
    """Quarantine records from a reader, in the annotated layout."""
    rows = _Rows()
    for source, file, offset, error, raw in zip(*(bad.column(n).to_pylist() for n in ("source", "file", "offset", "error", "raw"))):
        rows.add(id=f"{file}@{offset}", source=source, file=file, offset=offset, error=error, raw=raw, status=QUARANTINED)
    return rows.batch()


def process_split(pipeline: CleanPipeline, split: Split, skipped: Counter | None = None) -> Iterator[pa.RecordBatch]:
    """Read one split and yield annotated batches: the unit of work of a Spark task. Records that
    are not documents (WARC requests, 404s...) are counted into `skipped` by reason."""
    for batch in read_split(split, pipeline.cfg.input):
        if skipped is not None:
            skipped.update(batch.skipped)
        if batch.documents.num_rows:
            yield pipeline.process(batch.documents)
        if batch.quarantine.num_rows:
            yield quarantine_batch(batch.quarantine)


def write_split(pipeline: CleanPipeline, split: Split, out_dir: str, part: str) -> Stats:
    """Process one split and write its rows to `out_dir/{kept,rejected,quarantine}/<part>.parquet`."""
    writers = {name: PartWriter(storage.join(out_dir, name), part, output_schema(name)) for name in OUTPUTS}
    stats, skipped = Stats(), Counter()
    for batch in process_split(pipeline, split, skipped):
        stats = stats + Stats.of_batch(batch)
        status = batch.column("status")
        for name, (value, _) in OUTPUTS.items():
            writers[name].write(batch.filter(pc.equal(status, value)))
    stats.add_skipped(skipped)
    for writer in writers.values():
        writer.close()
    return stats


def run_local(paths: list[str], cfg: CleanConfig) -> Iterator[pa.RecordBatch]:
    """The whole stage in this process, split after split (no Spark)."""
    pipeline = CleanPipeline(cfg)
    for split in plan_splits(paths, cfg.input.split_bytes):
        yield from process_split(pipeline, split)


def stats_of(batches) -> Stats:
    total = Stats()
    for batch in batches:
        total = total + Stats.of_batch(batch)
    return total


class _Rows:
    """Column lists for the annotated schema; missing values are null."""

    def __init__(self):
        self.columns: dict[str, list] = {f.name: [] for f in ANNOTATED_SCHEMA}
        self.n = 0

    def add(self, **values) -> None:
        for name, column in self.columns.items():
            column.append(values.get(name))
        self.n += 1

    def batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict(self.columns, schema=ANNOTATED_SCHEMA)


def config_json(cfg: CleanConfig) -> str:
    return json.dumps(config_lib.to_dict(cfg), indent=2, sort_keys=True, ensure_ascii=False)
