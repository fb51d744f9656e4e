"""Stage statistics: counters and histograms that merge with `+` across partitions.

`Stats.of_batch` reads an annotated batch (the columns `corpus_tools.clean` writes) with
vectorized Arrow/numpy operations, so every engine (a local loop, a Spark task) computes
its share the same way and the driver only adds them up.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Log2-spaced length bins: bin k holds lengths in [2^(k-1), 2^k), bin 0 holds 0.
LENGTH_BINS = 28
SCORE_BINS = 20  # linear bins over [0, 1]


@dataclass
class Histogram:
    kind: str  # "log2" or "unit"
    counts: np.ndarray

    @classmethod
    def empty(cls, kind: str) -> "Histogram":
        return cls(kind, np.zeros(LENGTH_BINS if kind == "log2" else SCORE_BINS, dtype=np.int64))

    def add(self, values: np.ndarray) -> None:
        if not len(values):
            return
        if self.kind == "log2":
            bins = np.zeros(len(values), dtype=np.int64)
            positive = values > 0
            bins[positive] = np.floor(np.log2(values[positive])).astype(np.int64) + 1
        else:
            bins = np.floor(np.clip(values, 0, 1) * SCORE_BINS).astype(np.int64)
        np.add.at(self.counts, np.clip(bins, 0, len(self.counts) - 1), 1)

    def __add__(self, other: "Histogram") -> "Histogram":
        return Histogram(self.kind, self.counts + other.counts)

    def edges(self) -> list[float]:
        if self.kind == "log2":
            return [0.0] + [float(2**k) for k in range(len(self.counts))]
        return [k / SCORE_BINS for k in range(SCORE_BINS + 1)]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "edges": self.edges(), "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Histogram":
        return cls(d["kind"], np.asarray(d["counts"], dtype=np.int64))


@dataclass
class Stats:
    counters: Counter = field(default_factory=Counter)
    histograms: dict[str, Histogram] = field(default_factory=dict)

    def __add__(self, other: "Stats") -> "Stats":
        hists = dict(self.histograms)
        for name, h in other.histograms.items():
            hists[name] = hists[name] + h if name in hists else h
        return Stats(self.counters + other.counters, hists)

    def hist(self, name: str, kind: str) -> Histogram:
        return self.histograms.setdefault(name, Histogram.empty(kind))

    @classmethod
    def of_batch(cls, batch: pa.RecordBatch) -> "Stats":
        """Counts one annotated batch: status, reasons, languages, sources, lengths, removals."""
        stats = cls()
        c = stats.counters
        status = batch.column("status")
        for value, n in _value_counts(status):
            c[value] += n
        quarantined = pc.equal(status, "quarantined")
        docs = batch.filter(pc.invert(quarantined))
        bad = batch.filter(quarantined)
        first = pc.equal(docs.column("segment"), 0)
        c["documents"] += _sum(pc.cast(first, pa.int64()))
        c["extra_segments"] += docs.num_rows - _sum(pc.cast(first, pa.int64()))
        c["input"] += bad.num_rows + _sum(pc.cast(first, pa.int64()))
        c["segments"] += docs.num_rows
        for error, n in _value_counts(pc.utf8_slice_codeunits(
                pc.fill_null(pc.extract_regex(bad.column("error"), r"^(?P<kind>[a-z_0-9]+)").field("kind"), "other"), 0, 64)):
            c[f"quarantine/{error}"] += n
        for reason, n in _value_counts(docs.column("drop_reason")):
            c[f"drop/{reason}"] += n
        for prefix, column in (("lang", "lang"), ("source", "source")):
            for (key, st), n in _pair_counts(docs.column(column), docs.column("status")):
                c[f"{prefix}/{key}/{st}"] += n
        c["chars/input"] += _sum(docs.column("input_chars"))
        kept = pc.equal(docs.column("status"), "kept")
        c["chars/kept"] += _sum(pc.if_else(kept, docs.column("n_chars"), 0))
        c["chars/rejected"] += _sum(pc.if_else(kept, 0, docs.column("n_chars")))
        removed = docs.column("chars_removed")
        if len(removed) and removed.null_count < len(removed):
            for rule, n in zip(removed.keys.to_pylist(), removed.items.to_pylist()):
                c[f"chars_removed/{rule}"] += n
        if "signals" in docs.schema.names:
            for kind, n in _signal_sums(docs.column("signals"), "pii_"):
                c[f"pii/{kind}"] += n  # placeholders written by PII masking (corpus_tools.pii), kept and rejected
        n_chars = docs.column("n_chars").to_numpy(zero_copy_only=False)
        keep_mask = kept.to_numpy(zero_copy_only=False)
        stats.hist("chars/kept", "log2").add(n_chars[keep_mask])
        stats.hist("chars/rejected", "log2").add(n_chars[~keep_mask])
        scores = pc.fill_null(docs.column("lang_score"), 0.0).to_numpy(zero_copy_only=False)
        stats.hist("lang_score", "unit").add(scores)
        return stats

    def add_skipped(self, skipped: Counter) -> None:
        """Count records that are not documents (WARC requests, 404s, images...) by reason: they are
        outside `input`, so `records = input + skipped`."""
        for reason, n in skipped.items():
            self.counters[f"skipped/{reason}"] += n
            self.counters["skipped"] += n

    def reconcile(self) -> list[str]:
        """Broken accounting identities (empty when every document is accounted for)."""
        c, problems = self.counters, []
        if c["input"] != c["documents"] + c["quarantined"]:
            problems.append(f"input {c['input']} != documents {c['documents']} + quarantined {c['quarantined']}")
        if c["segments"] != c["kept"] + c["rejected"]:
            problems.append(f"segments {c['segments']} != kept {c['kept']} + rejected {c['rejected']}")
        return problems

    def to_dict(self) -> dict:
        c = self.counters
        return {
            "input": c["input"],
            "kept": c["kept"],
            "rejected": c["rejected"],
            "quarantined": c["quarantined"],
            "skipped": c["skipped"],  # records that are not documents (WARC); records = input + skipped
            "documents": c["documents"],
            "segments": c["segments"],
            "extra_segments": c["extra_segments"],
            "reconciles": not self.reconcile(),
            "counters": dict(sorted(c.items())),
            "histograms": {k: h.to_dict() for k, h in sorted(self.histograms.items())},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Stats":
        return cls(Counter(d["counters"]), {k: Histogram.from_dict(h) for k, h in d["histograms"].items()})


def _value_counts(array: pa.Array):
    if not len(array):
        return []
    counts = pc.value_counts(array)
    return [(v, n) for v, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()) if v is not None]


def _pair_counts(a: pa.Array, b: pa.Array):
    if not len(a):
        return []
    table = pa.table({"a": pc.fill_null(a, "unknown"), "b": b})
    grouped = table.group_by(["a", "b"]).aggregate([("a", "count")])
    return [((x, y), n) for x, y, n in zip(*(grouped.column(i).to_pylist() for i in ("a", "b", "a_count")))]


def _signal_sums(signals: pa.MapArray, prefix: str) -> list[tuple[str, int]]:
    """(name without `prefix`, sum over rows) of the signals whose name starts with `prefix`."""
    if not len(signals) or signals.null_count == len(signals):
        return []
    lo, hi = signals.offsets[0].as_py(), signals.offsets[-1].as_py()  # .keys ignores a slice's offset
    keys, items = signals.keys.slice(lo, hi - lo), signals.items.slice(lo, hi - lo)
    chosen = pc.starts_with(keys, prefix)
    if not pc.any(chosen).as_py():
        return []
    table = pa.table({"k": keys.filter(chosen), "v": items.filter(chosen)}).group_by("k").aggregate([("v", "sum")])
    return [(k[len(prefix):], int(v)) for k, v in zip(table.column("k").to_pylist(), table.column("v_sum").to_pylist())]


def _sum(array: pa.Array) -> int:
    value = pc.sum(array).as_py()
    return int(value) if value is not None and not math.isnan(value) else 0
