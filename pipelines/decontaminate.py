"""`ziya decontaminate`: drop the documents that share a 13-gram span with a benchmark, on Spark.

    ziya decontaminate --input out/dedup --benchmark gsm8k_test.jsonl --benchmark cmmlu.parquet \\
                       [--benchmark-fields question,answer] --output out/decontaminate
    spark-submit ziya/cli.py decontaminate --input ... --output ...   # the same job on a cluster

Phases:
  index      (driver, before Spark starts) every benchmark read whole and its n-grams hashed into
             one sorted index (corpus_tools.decontaminate.BenchmarkIndex); a missing or unreadable
             file, or one with nothing long enough to match, fails here in one line
  match      one Spark task per unit of input (a row group of a stage's kept/, or a split of raw
             JSONL/Parquet, whose bad records go to quarantine/); the index is a broadcast, loaded
             once per Python worker; each task streams its documents through it and writes its
             kept/ part (rows as they were) and rejected/ part (with drop_reason
             `contaminated:<benchmark file>`, the item, the first shared span and how many n-grams
             matched), then returns one small stats row. A finished part is marked done, so a
             killed run resumes.
  commit     the parts' stats added up: per benchmark the documents hit, the items they hit and
             sample spans; input = kept + rejected + quarantined is checked first.

The stage's identity (config.json) holds a digest of the index, so editing a benchmark file in
place re-runs the stage instead of finding it done.
"""
from __future__ import annotations

import json
import sys
import time

from corpus_tools import storage
from corpus_tools.config import dumps
from corpus_tools.decontaminate import BenchmarkIndex, DecontaminateConfig, Decontaminator, rejected_schema, split_batch
from corpus_tools.document import DOCUMENT_SCHEMA, QUARANTINE_SCHEMA
from corpus_tools.writers import PartWriter, ensure_schema_file
from pipelines.stage import Run, mark_part_done, part_done, read_unit, stage_input, unit_tasks
from pipelines.stages import DECONTAMINATE

run = DECONTAMINATE.run  # run(spark, inputs, output, cfg, overwrite=False) -> stats

OUTPUTS = ("kept", "rejected", "quarantine")


def prepare(cfg: DecontaminateConfig) -> BenchmarkIndex:
    start = time.perf_counter()
    index = BenchmarkIndex.build(cfg.benchmarks, cfg.benchmark_fields, cfg.ngram)
    for s in index.summary:
        print(f"[decontaminate] {storage.basename(s['file'])}: {s['items']} items, {s['distinct_ngrams']:,} "
              f"distinct {cfg.ngram}-grams ({s['short_items']} items shorter than {cfg.ngram} tokens)", file=sys.stderr)
    print(f"[decontaminate] index: {len(index.keys):,} n-grams, {(index.keys.nbytes + index.items.nbytes) / 1e6:.1f} MB "
          f"({time.perf_counter() - start:.1f}s)", file=sys.stderr)
    return index


def identity(cfg: DecontaminateConfig, index: BenchmarkIndex) -> str:
    """config.json: the config and what the benchmarks hold."""
    return json.dumps({**json.loads(dumps(cfg)), "benchmarks_digest": index.digest()}, indent=2, sort_keys=True)


def decontaminate_part(cfg: DecontaminateConfig, finder: Decontaminator, unit: dict, text_column: str,
                       out_dir: str) -> dict:
    """Match one unit of input unless an earlier attempt finished it; its stats."""
    part = unit["part"]
    stats = part_done(out_dir, part)
    if stats is not None:
        return stats
    quarantine = storage.join(out_dir, "quarantine")
    writers: dict[str, PartWriter] = {}
    counts = {"input": 0, "kept": 0, "rejected": 0}
    benchmarks: dict[str, dict] = {}
    for batch in read_unit(unit, cfg.input, quarantine, batch_rows=cfg.batch_rows):
        if not writers:
            writers = {"kept": PartWriter(storage.join(out_dir, "kept"), part, batch.schema),
                       "rejected": PartWriter(storage.join(out_dir, "rejected"), part, rejected_schema(batch.schema))}
        kept, rejected, matches = split_batch(batch, text_column, finder)
        writers["kept"].write(kept)
        writers["rejected"].write(rejected)
        counts["input"] += batch.num_rows
        counts["kept"] += kept.num_rows
        counts["rejected"] += rejected.num_rows
        ids = rejected.column("id").to_pylist()
        for doc_id, m in zip(ids, matches):
            for b in m.hits:
                hit = benchmarks.setdefault(finder.index.names[b], {"documents": 0, "rejected": 0, "items": [],
                                                                     "samples": []})
                hit["documents"] += 1
            mine = benchmarks[finder.index.names[m.benchmark]]
            mine["rejected"] += 1
            mine["items"].append(m.item)
            if len(mine["samples"]) < cfg.samples:
                mine["samples"].append({"id": str(doc_id), "item": m.item, "span": m.span})
    for writer in writers.values():
        writer.close()
    for hit in benchmarks.values():
        hit["items"] = sorted(set(hit["items"]))
    bad = storage.join(quarantine, f"{part}.parquet")
    counts["quarantined"] = storage.parquet_rows([bad]) if storage.exists(bad) else 0
    stats = {**counts, "benchmarks": benchmarks}
    mark_part_done(out_dir, part, stats)
    return stats


def _match_units(index_broadcast, cfg_json: str, text_column: str, out_dir: str):
    def match(unit: dict):
        import pyarrow as pa

        cfg = DecontaminateConfig.from_dict(json.loads(cfg_json))
        finder = Decontaminator(index_broadcast.value)  # pyspark unpickles a broadcast once per worker
        stats = decontaminate_part(cfg, finder, unit, text_column, out_dir)
        yield pa.RecordBatch.from_pydict({"stats": [json.dumps(stats)]})
    return match


def work(run: Run) -> dict:
    cfg, out, phase, index = run.cfg, run.out, run.phase, run.prepared
    source = stage_input(run.listing, cfg.input)
    resumed = run.begin(source.units)
    cfg_json = json.dumps({k: v for k, v in json.loads(out.config_json).items() if k != "benchmarks_digest"})
    with phase(f"match {len(source.units)} units against {len(index.names)} benchmark(s)"):
        broadcast = run.spark.sparkContext.broadcast(index)
        rows = unit_tasks(run.spark, source.units, _match_units(broadcast, cfg_json, source.text_column, out.tmp),
                          "stats string").collect()
        broadcast.destroy()
    parts = [json.loads(r.stats) for r in rows]
    schema = storage.parquet_schema(source.files[0]) if source.contract and source.files else DOCUMENT_SCHEMA
    for name, s in (("kept", schema), ("rejected", rejected_schema(schema)), ("quarantine", QUARANTINE_SCHEMA)):
        ensure_schema_file(out.subdir(name), s)
    return build_stats(parts, index, cfg, source, resumed)


def build_stats(parts: list[dict], index: BenchmarkIndex, cfg: DecontaminateConfig, source, resumed: int) -> dict:
    totals = {k: sum(p[k] for p in parts) for k in ("input", "kept", "rejected", "quarantined")}
    if source.contract:
        expected = storage.parquet_rows(source.files)
        if totals["input"] != expected:
            raise RuntimeError(f"read {totals['input']} documents, the input holds {expected}")
    if totals["input"] != totals["kept"] + totals["rejected"]:
        raise RuntimeError(f"counts do not reconcile: {totals['input']} documents != {totals['kept']} kept + "
                           f"{totals['rejected']} rejected")
    benchmarks = {}
    for name, summary in zip(index.names, index.summary):
        mine = [p["benchmarks"][name] for p in parts if name in p["benchmarks"]]
        items = sorted({i for m in mine for i in m["items"]})
        benchmarks[name] = {**summary, "documents_hit": sum(m["documents"] for m in mine),
                            "rejected": sum(m["rejected"] for m in mine), "items_hit": len(items),
                            "items_hit_sample": items[:100],
                            "samples": [s for m in mine for s in m["samples"]][: cfg.samples]}
    documents = totals["input"]
    return {"input": documents + totals["quarantined"], "documents": documents, "kept": totals["kept"],
            "rejected": totals["rejected"], "quarantined": totals["quarantined"],
            "counters": {f"drop/contaminated:{name}": b["rejected"] for name, b in benchmarks.items() if b["rejected"]},
            "benchmarks": benchmarks, "ngram": cfg.ngram, "units": len(parts), "resumed_units": resumed,
            "reconciles": True}


def print_summary(s: dict, path: str) -> None:
    print(f"[decontaminate] {s['input']} input -> {s['kept']} kept, {s['rejected']} contaminated, "
          f"{s['quarantined']} quarantined; output in {path}", file=sys.stderr)
    for name, b in s["benchmarks"].items():
        print(f"[decontaminate]   {name}: {b['documents_hit']} documents share a {s['ngram']}-gram with "
              f"{b['items_hit']} of its {b['items']} items", file=sys.stderr)
        for sample in b["samples"][:2]:
            span = sample["span"].replace("\n", " ")
            print(f"[decontaminate]     {sample['id']} ~ item {sample['item']}: \"{span[:90]}\"", file=sys.stderr)
