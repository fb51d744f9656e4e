"""Read a stage's output directory into pandas tables for human review (Ziya2's data evaluation).

    from corpus_tools import report
    stats = report.load_stats("out/clean")
    report.funnel(stats)                    # input -> quarantined / rejected / kept
    report.counter_table(stats, "drop/")    # drop reasons, counts and shares
    docs = report.load_documents("out/clean", columns=report.LIGHT_COLUMNS)
    report.keep_rates(docs, report.meta_field(docs, "kind"))

Everything here only reads what a stage wrote (see docs/document-contract.md): `stats.json`
for counts, the Parquet outputs for anything per document. `notebooks/quality_stats.ipynb`
is the human-facing view; these functions are the part worth testing.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from corpus_tools.clean import OUTPUTS
from corpus_tools.stats import Stats

KEPT, REJECTED, QUARANTINE = "kept", "rejected", "quarantine"
# Columns that are cheap to load for every document: everything but the text.
LIGHT_COLUMNS = ["id", "source", "url", "meta", "lang", "lang_score", "lang_share", "n_chars", "signals", "chars_removed"]
QUARANTINE_COLUMNS = OUTPUTS["quarantine"][1]


def load_stats(out_dir: str) -> dict:
    with open(os.path.join(out_dir, "stats.json"), encoding="utf-8") as f:
        return json.load(f)


def load_config(out_dir: str) -> dict:
    with open(os.path.join(out_dir, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def _dataset(out_dir: str, name: str) -> ds.Dataset | None:
    path = os.path.join(out_dir, name)
    if not os.path.isdir(path) or not any(f.endswith(".parquet") for f in os.listdir(path)):
        return None  # Spark writes no part file for an empty output (e.g. nothing quarantined)
    return ds.dataset(path, format="parquet")


def load_output(out_dir: str, name: str, columns: list[str] | None = None, ids: list[str] | None = None) -> pd.DataFrame:
    """One output (`kept`, `rejected` or `quarantine`) as a DataFrame, sorted by id (or file, offset).

    `ids` restricts the rows read (e.g. to fetch the text of sampled documents only). Map
    columns (`signals`, `chars_removed`) become dicts. An output with no Parquet file gives an
    empty frame with the requested columns.
    """
    dataset = _dataset(out_dir, name)
    if dataset is None:
        wanted = columns or (QUARANTINE_COLUMNS if name == QUARANTINE else LIGHT_COLUMNS + ["text"])
        if name == REJECTED and columns is None:
            wanted = wanted + ["drop_reason"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in wanted})
    if columns is not None:
        columns = [c for c in columns if c in dataset.schema.names]
    flt = pc.field("id").isin(pa.array(ids, pa.string())) if ids is not None else None
    frame = dataset.to_table(columns=columns, filter=flt).to_pandas()
    for col in ("signals", "chars_removed"):
        if col in frame:
            frame[col] = [dict(m) if m is not None else {} for m in frame[col]]
    order = ["id"] if "id" in frame else [c for c in ("file", "offset") if c in frame]
    return frame.sort_values(order, kind="stable").reset_index(drop=True) if order else frame


def load_documents(out_dir: str, columns: list[str] | None = None, ids: list[str] | None = None) -> pd.DataFrame:
    """kept/ and rejected/ in one frame with a `status` column (and `drop_reason`, None when kept)."""
    cols = None if columns is None else list(dict.fromkeys([*columns, "id"]))
    kept = load_output(out_dir, KEPT, cols, ids).assign(status=KEPT, drop_reason=None)
    rejected = load_output(out_dir, REJECTED, None if cols is None else cols + ["drop_reason"], ids).assign(status=REJECTED)
    frames = [f for f in (kept, rejected) if len(f)]
    if not frames:
        return kept
    return pd.concat(frames, ignore_index=True)


def meta_field(docs: pd.DataFrame, field: str) -> pd.Series:
    """A field of the `meta` JSON of each document (None where absent), named after the field."""
    def get(meta):
        if not meta:
            return None
        try:
            value = json.loads(meta)
        except ValueError:
            return None
        return value.get(field) if isinstance(value, dict) else None

    return pd.Series([get(m) for m in docs["meta"]], index=docs.index, name=field, dtype=object)


def check_reconciliation(stats: dict) -> list[str]:
    """Accounting identities that fail (empty when every record is accounted for).

    The stage's own identities (`Stats.reconcile`) plus agreement between the top-level
    totals and the counters they come from, and between drop reasons and `rejected`.
    """
    c = stats["counters"]
    problems = Stats.from_dict(stats).reconcile()
    for key in ("input", "kept", "rejected", "quarantined", "documents", "segments", "extra_segments"):
        if stats.get(key, 0) != c.get(key, 0):
            problems.append(f"{key}: top level {stats.get(key, 0)} != counter {c.get(key, 0)}")
    if stats["segments"] != stats["documents"] + stats["extra_segments"]:
        problems.append(f"segments {stats['segments']} != documents {stats['documents']} + extra {stats['extra_segments']}")
    drops = sum(counters(stats, "drop/"))
    if drops != stats["rejected"]:
        problems.append(f"drop reasons sum to {drops}, rejected is {stats['rejected']}")
    quarantine = sum(counters(stats, "quarantine/"))
    if quarantine != stats["quarantined"]:
        problems.append(f"quarantine errors sum to {quarantine}, quarantined is {stats['quarantined']}")
    return problems


def funnel(stats: dict) -> pd.DataFrame:
    """Documents through the stage: input, quarantined, documents, rejected, kept; shares of input.

    `segments` and `extra_segments` show up only when long documents were split.
    """
    rows = [("input", stats["input"]), ("quarantined", stats["quarantined"]), ("documents", stats["documents"])]
    if stats["extra_segments"]:
        rows += [("extra_segments", stats["extra_segments"]), ("segments", stats["segments"])]
    rows += [("rejected", stats["rejected"]), ("kept", stats["kept"])]
    frame = pd.DataFrame(rows, columns=["stage", "docs"]).set_index("stage")
    frame["share_of_input"] = frame["docs"] / max(stats["input"], 1)
    return frame


def char_funnel(stats: dict, docs: pd.DataFrame) -> pd.DataFrame:
    """Characters: input -> removed by preprocessing / by line rules / in rejected docs -> kept.

    stats.json has the input, kept and rejected characters and the line-rule removals (outputs
    older than the `chars/rejected` counter: rejected characters come from rejected/);
    preprocessing (normalization, HTML stripping) is what is left. Quarantined records count
    no characters.
    """
    c = stats["counters"]
    total = c.get("chars/input", 0)
    kept = c.get("chars/kept", 0)
    by_lines = sum(counters(stats, "chars_removed/"))
    rejected = c.get("chars/rejected")
    if rejected is None:
        rejected = int(docs.loc[docs["status"] == REJECTED, "n_chars"].sum())
    rows = [
        ("input", total),
        ("removed_by_preprocessing", total - kept - rejected - by_lines),
        ("removed_by_line_rules", by_lines),
        ("in_rejected_docs", rejected),
        ("kept", kept),
    ]
    frame = pd.DataFrame(rows, columns=["stage", "chars"]).set_index("stage")
    frame["share_of_input"] = frame["chars"] / max(total, 1)
    return frame


def counters(stats: dict, prefix: str) -> pd.Series:
    """Counters under `prefix` (e.g. `drop/`), keyed by the rest of the name, largest first."""
    items = {k[len(prefix):]: v for k, v in stats["counters"].items() if k.startswith(prefix)}
    series = pd.Series(items, dtype="int64", name="count")
    return series.sort_values(ascending=False, kind="stable")


def counter_table(stats: dict, prefix: str, total: int | None = None) -> pd.DataFrame:
    """`counters` with each one's share of their sum (and of `total` when given)."""
    series = counters(stats, prefix)
    frame = series.to_frame()
    frame["share"] = series / max(series.sum(), 1)
    if total is not None:
        frame["share_of_total"] = series / max(total, 1)
    frame.index.name = prefix.rstrip("/")
    return frame


def status_counters(stats: dict, prefix: str) -> pd.DataFrame:
    """Counters `<prefix>/<key>/<status>` as a table: kept, rejected, total, keep_rate per key."""
    rows: dict[str, dict[str, int]] = {}
    for name, n in stats["counters"].items():
        if not name.startswith(prefix + "/"):
            continue
        key, _, status = name[len(prefix) + 1:].rpartition("/")
        rows.setdefault(key, {})[status] = n
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return _rates(frame, prefix)


def keep_rates(docs: pd.DataFrame, by: pd.Series | str) -> pd.DataFrame:
    """kept, rejected, total, keep_rate per value of `by` (a column name or a Series on docs' index)."""
    key = docs[by] if isinstance(by, str) else by
    name = key.name or "key"
    frame = pd.crosstab(key.fillna("(none)"), docs["status"])
    return _rates(frame, name)


def _rates(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame = frame.reindex(columns=[KEPT, REJECTED], fill_value=0).fillna(0).astype("int64")
    frame["total"] = frame[KEPT] + frame[REJECTED]
    frame["keep_rate"] = frame[KEPT] / frame["total"].where(frame["total"] > 0)
    frame.index.name = name
    frame.columns.name = None
    return frame.sort_values(["total", KEPT], ascending=False, kind="stable")


def reasons_by(docs: pd.DataFrame, by: pd.Series | str, top: int | None = None) -> pd.DataFrame:
    """Rejected documents per drop reason (rows) and value of `by` (columns)."""
    key = docs[by] if isinstance(by, str) else by
    rejected = docs["status"] == REJECTED
    table = pd.crosstab(docs.loc[rejected, "drop_reason"], key[rejected].fillna("(none)"))
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    return table.head(top) if top else table


def histogram(stats: dict, name: str) -> pd.DataFrame:
    """A stats.json histogram as rows [lo, hi) with counts (log2 bins: bin 0 holds exactly 0)."""
    h = stats["histograms"][name]
    edges, counts = h["edges"], h["counts"]
    frame = pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": counts})
    if h["kind"] == "log2":
        frame.loc[0, "hi"] = 0.0  # the zero bin: lengths equal to 0
        frame["bin"] = ["0"] + [f"[{lo:g}, {hi:g})" for lo, hi in zip(frame["lo"][1:], frame["hi"][1:])]
    else:
        frame["bin"] = [f"[{lo:.2f}, {hi:.2f})" for lo, hi in zip(frame["lo"], frame["hi"])]
        frame.loc[len(frame) - 1, "bin"] = f"[{frame['lo'].iloc[-1]:.2f}, {frame['hi'].iloc[-1]:.2f}]"
    return frame.set_index("bin")


def trim_empty_bins(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Drop the leading and trailing rows whose counts (in `columns`) are all zero."""
    values = frame[columns or [c for c in frame.columns if c not in ("lo", "hi")]].to_numpy()
    nonzero = np.flatnonzero(values.sum(axis=1))
    return frame.iloc[nonzero[0]:nonzero[-1] + 1] if len(nonzero) else frame.iloc[:0]


def signals(docs: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The named rule signals as columns (NaN where a rule did not measure the document)."""
    return pd.DataFrame({n: [s.get(n, np.nan) for s in docs["signals"]] for n in names}, index=docs.index)


def signal_summary(docs: pd.DataFrame, names: list[str], quantiles=(0.1, 0.5, 0.9)) -> pd.DataFrame:
    """Per signal and status: how many documents were measured, and quantiles of the signal.

    A document is measured by a rule only if every earlier rule passed it (the first failing
    rule drops it), so the rejected side of a late rule's signal covers only documents that
    rule or a later one dropped.
    """
    values = signals(docs, names)
    rows = []
    for name in names:
        for status in (KEPT, REJECTED):
            v = values.loc[docs["status"] == status, name].dropna()
            row = {"signal": name, "status": status, "measured": len(v)}
            row.update({f"p{round(q * 100)}": (v.quantile(q) if len(v) else np.nan) for q in quantiles})
            rows.append(row)
    return pd.DataFrame(rows).set_index(["signal", "status"])


def signal_histogram(docs: pd.DataFrame, name: str, bins: int = 10, upper_quantile: float = 0.98) -> pd.DataFrame:
    """Kept and rejected documents per equal-width bin of one signal.

    The bins span the signal's minimum to its `upper_quantile`; larger values fall in the last
    bin (labelled with a trailing `+`), so one outlier does not squash the rest into a bin.
    """
    values = signals(docs, [name])[name]
    measured = values.notna()
    if not measured.any():
        return pd.DataFrame({KEPT: [], REJECTED: []}, dtype="int64")
    lo, hi = float(values[measured].min()), float(values[measured].quantile(upper_quantile))
    hi = hi if hi > lo else lo + 1
    edges = np.linspace(lo, hi, bins + 1)
    clipped = values.clip(upper=hi)
    out = {status: np.histogram(clipped[measured & (docs["status"] == status)], bins=edges)[0] for status in (KEPT, REJECTED)}
    labels = [f"[{a:.3g}, {b:.3g})" for a, b in zip(edges[:-1], edges[1:])]
    labels[-1] = f"[{edges[-2]:.3g}, {edges[-1]:.3g}]" + ("+" if values[measured].max() > hi else "")
    return pd.DataFrame(out, index=pd.Index(labels, name=name))


def line_removals(docs: pd.DataFrame, by: pd.Series | str | None = None) -> pd.DataFrame:
    """Characters the line rules removed from kept documents, per rule and group of `by`.

    `removed_share` is the removed characters over the kept documents' characters before the
    line rules (kept + removed): how much of what passed the document rules was cut.
    """
    kept = docs["status"] == KEPT
    key = (docs[by] if isinstance(by, str) else by) if by is not None else pd.Series("all", index=docs.index, name="group")
    key = key[kept].fillna("(none)")
    removed = pd.DataFrame(list(docs.loc[kept, "chars_removed"]), index=key.index).fillna(0).astype("int64")
    table = removed.groupby(key).sum()
    table = table[table.sum().sort_values(ascending=False, kind="stable").index]
    chars = docs.loc[kept, "n_chars"].groupby(key).sum()
    table.insert(0, "kept_chars", chars)
    table.insert(0, "docs", key.groupby(key).size())
    total = table.drop(columns=["docs", "kept_chars"]).sum(axis=1)
    table["removed_share"] = total / (table["kept_chars"] + total).where(lambda t: t > 0)
    table.index.name = key.name
    return table.iloc[np.argsort(-table["docs"].to_numpy(), kind="stable")]


def last_signal(signals: dict) -> str:
    """`name=value` of the last signal a document got: for a rejected one, usually what the
    failing rule measured (rules record a signal, then test it, and the first failure stops)."""
    if not signals:
        return ""
    name, value = list(signals.items())[-1]
    return f"{name}={value:.4g}"


def sample(frame: pd.DataFrame, n: int, seed: int = 0, by: str | None = None) -> pd.DataFrame:
    """Up to `n` random rows (per value of `by`), reproducible for a seed and independent of file order."""
    key = "id" if "id" in frame else [c for c in ("file", "offset") if c in frame]
    frame = frame.sort_values(key, kind="stable") if len(frame) else frame
    if by is None:
        return frame.sample(min(n, len(frame)), random_state=seed)
    parts = [group.sample(min(n, len(group)), random_state=seed) for _, group in frame.groupby(by, sort=True)]
    return pd.concat(parts) if parts else frame.iloc[:0]


def truncate(text: str | None, n: int = 300) -> str | None:
    """The first `n` characters of `text`, with a marker saying how much was cut."""
    if text is None or len(text) <= n:
        return text
    return f"{text[:n]}… [+{len(text) - n} chars]"


_EIGHTHS = " ▏▎▍▌▋▊▉"


def text_bar(value: float, maximum: float, width: int = 30) -> str:
    """A unicode bar of `value / maximum` of `width` cells (eighths of a cell resolution)."""
    if not maximum or value is None or not np.isfinite(value) or value <= 0:
        return ""
    eighths = int(round(min(value / maximum, 1.0) * width * 8))
    return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")


def with_bars(frame: pd.DataFrame, column: str, width: int = 30, maximum: float | None = None) -> pd.DataFrame:
    """`frame` plus a `bar` column drawing `column` (text plots where matplotlib is missing)."""
    values = frame[column].astype(float)
    top = maximum if maximum is not None else (values.max() if len(values) else 0)
    return frame.assign(bar=[text_bar(v, top, width) for v in values])


# ---------------------------------------------------------------- `ziya score` output

SCORE_COLUMNS = ["id", "source", "lang", "n_chars", "ppl", "ppl_para", "quality_score", "ppl_percentile", "quality_bucket"]
BUCKET_ORDER = ["high", "medium", "low", "unscored"]


def bucket_shares(stats: dict) -> pd.DataFrame:
    """Documents per language and quality bucket (from a score stage's `stats.json` counters),
    with each bucket's share of the language."""
    c = stats["counters"]
    rows = {}
    for key, n in c.items():
        parts = key.split("/")
        if len(parts) == 4 and parts[0] == "lang" and parts[2] == "bucket":
            rows.setdefault(parts[1], {})[parts[3]] = n
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=BUCKET_ORDER).fillna(0).astype(int)
    table.index.name = "lang"
    total = table.sum(axis=1).replace(0, 1)
    for bucket in BUCKET_ORDER:
        table[f"{bucket}_share"] = table[bucket] / total
    return table.loc[table[BUCKET_ORDER].sum(axis=1).sort_values(ascending=False, kind="stable").index]


def ppl_histogram(docs: pd.DataFrame, by: str | list[str] = "lang", column: str = "ppl_para",
                  edges: list[float] | None = None) -> pd.DataFrame:
    """Scored documents per perplexity bin (log-spaced: perplexity spans orders of magnitude),
    one column per group of `by` (a column name or names, e.g. ["lang", "source"])."""
    scored = docs[docs[column].notna()]
    if edges is None:
        edges = [1, 10, 30, 100, 300, 1_000, 3_000, 10_000, 100_000, np.inf]
    labels = [f"[{_short(a)}, {_short(b)})" for a, b in zip(edges[:-1], edges[1:])]
    bins = pd.cut(scored[column], edges, right=False, labels=labels)
    keys = [by] if isinstance(by, str) else list(by)
    group = scored[keys].astype(str).agg("/".join, axis=1) if len(scored) else pd.Series(dtype=str)
    table = pd.crosstab(bins, group).reindex(labels, fill_value=0) if len(scored) else pd.DataFrame(index=labels)
    table.index.name = column
    table.columns.name = "/".join(keys)
    return table


def _short(x: float) -> str:
    if not np.isfinite(x):
        return "inf"
    return f"{x / 1000:g}k" if x >= 1000 else f"{x:g}"


def ppl_summary(docs: pd.DataFrame, by: str | list[str] = "lang", column: str = "ppl_para") -> pd.DataFrame:
    """Documents, scored documents and perplexity quantiles per group."""
    keys = [by] if isinstance(by, str) else list(by)
    grouped = docs.groupby(keys, dropna=False)[column]
    table = pd.DataFrame({"docs": grouped.size(), "scored": grouped.count()})
    for q in (0.1, 0.5, 0.9):
        table[f"p{int(q * 100)}"] = grouped.quantile(q)
    return table.sort_values("docs", ascending=False)
