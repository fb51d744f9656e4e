"""Tokenize + pack throughput per core and peak memory: our corpus_tools path in one process,
`ziya pack` on Spark local, and Megatron-LM's tools/preprocess_data.py approach, with the same
tokenizer on the same input, in the same run, at 1x and 10x input.

    .venv/bin/python benchmarks/bench_pack.py                       # base 10 MB, scales 1 10
    .venv/bin/python benchmarks/bench_pack.py --base-mb 4 --scales 1 10 --workers 2

Input: the first k * base MB of `benchmarks/data/bench/*.jsonl` (build it with
`scripts/build_bench_corpus.py`; beyond its 200 MB it is repeated with fresh ids), as k files of
base MB for ours and Spark, and the same lines as one file for the Megatron approach (its tool
reads one JSON-lines file).

The three methods, each in a fresh child process (so peaks do not carry over):
  corpus_tools  corpus_tools.readers as `ziya pack` uses it on raw input (ids, quarantine checks,
                no meta: pyarrow's JSON reader a block at a time) -> encode_documents (the word
                cache, EOS inserted with numpy) -> ShardWriter, one process, one thread
  spark         pipelines.pack.run on local[workers] (tokenize, count, assign, shuffle, write),
                session start excluded, reading the JSON lines (parsed and staged by the job)
  spark_parquet the same reading the documents as Parquet (id, text, source): what `ziya pack`
                reads in the pipeline, a stage's kept/
  megatron      Megatron-LM's tools/preprocess_data.py, reproduced (it is not in the
                megatron-core wheel): multiprocessing.Pool(workers).imap(encode, lines, 25), each
                worker json.loads + SentencePiece encode_as_ids per document + EOS, the parent
                writing one .bin/.idx with megatron-core's IndexedDatasetBuilder
                (add_item, end_document, finalize)

Per core = tokens (or input MB) per CPU second of the whole process tree (the child, its pool
workers, the Spark JVM and Python workers; measure.TreeCpu), so the figure does not depend on how
many cores each method used or on other load. Peak memory: the child's process tree RSS, summed
over its processes, sampled every 0.1 s by the parent (psutil).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

METHODS = ("corpus_tools", "spark", "spark_parquet", "megatron")


# ---------------------------------------------------------------- inputs

def corpus_lines(bench: Path):
    """The bench corpus's JSON lines, then again and again with the ids made unique (`-r1`, ...)
    when more input is asked for than it holds: throughput and memory at 10x need more than its
    200 MB. (A repeat is text the tokenizer's word cache has seen, so it measures a cache as warm
    as on a corpus of that size with that vocabulary.)"""
    paths = sorted(bench.glob("bench-*.jsonl"))
    if not paths:
        sys.exit(f"no bench corpus in {bench}: run scripts/build_bench_corpus.py")
    for path in paths:
        yield from open(path, "rb")
    for r in itertools.count(1):
        print(f"[bench_pack] the bench corpus is repeated (round {r}) to reach the input size", file=sys.stderr)
        for path in paths:
            for line in open(path, "rb"):
                doc = json.loads(line)
                doc["id"] = f"{doc['id']}-r{r}"
                yield (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")


def make_inputs(bench: Path, work: Path, base_mb: float, scales: list[int], methods: list[str]) -> dict[int, dict]:
    """Per scale k: a folder of the first k files of ~base_mb each (ours), their Parquet copies, and
    one file of the same lines (Megatron's tool reads one). Each file is written once, streaming,
    and linked into every scale's folder, so 10 GB of input needs neither 10 GB of memory nor copies;
    the Parquet copies and the single file only when a method reads them."""
    lines = corpus_lines(bench)
    chunks = work / "chunks"
    chunks.mkdir(parents=True)
    sizes, docs = [], []
    for n in range(max(scales)):
        path, size, count = chunks / f"part-{n:05d}.jsonl", 0, 0
        with open(path, "wb") as f:
            while size < base_mb * 1e6:
                line = next(lines)
                f.write(line)
                size, count = size + len(line), count + 1
        sizes.append(size)
        docs.append(count)
        if "spark_parquet" in methods:
            write_parquet(path.read_bytes().splitlines(keepends=True), chunks / f"part-{n:05d}.parquet")
    out = {}
    for k in scales:
        folder, parquet, single = work / f"{k}x", work / f"{k}x-parquet", work / f"{k}x.jsonl"
        for directory, suffix in ((folder, ".jsonl"), (parquet, ".parquet")):
            directory.mkdir()
            for n in range(k):
                if (chunks / f"part-{n:05d}{suffix}").exists():
                    os.link(chunks / f"part-{n:05d}{suffix}", directory / f"part-{n:05d}{suffix}")
        if "megatron" in methods:
            with open(single, "wb") as f:
                for n in range(k):
                    with open(chunks / f"part-{n:05d}.jsonl", "rb") as chunk:
                        shutil.copyfileobj(chunk, f, 1 << 24)
        out[k] = {"dir": str(folder), "file": str(single), "parquet": str(parquet), "bytes": sum(sizes[:k]),
                  "docs": sum(docs[:k])}
    return out


def write_parquet(lines: list[bytes], path: Path) -> None:
    """The documents' id, text and source as Parquet: the shape of a stage's kept/."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in lines]
    pq.write_table(pa.table({key: [r.get(key) for r in records] for key in ("id", "text", "source")}), path,
                   compression="zstd")


# ---------------------------------------------------------------- the methods (run in a child)

def run_corpus_tools(inputs: dict, out: str, workers: int) -> dict:
    """One process, one thread: the project's contract reader (ids, quarantine) -> encode -> write."""
    from corpus_tools.readers import InputConfig, plan_splits, read_split

    batches = (b.documents for split in plan_splits([inputs["dir"]])
               for b in read_split(split, InputConfig(), with_meta=False))
    return pack_batches(batches, out)


def pack_batches(batches, out: str) -> dict:
    """Encode each batch (one SentencePiece call, one thread) and stream it into one shard per source."""
    import numpy as np

    from corpus_tools.shards import ShardWriter, encode_documents
    from corpus_tools.tokenizer import load_tokenizer

    tok = load_tokenizer()
    writers: dict[str, ShardWriter] = {}
    for table in batches:
        tokens, lengths = encode_documents(tok, table.column("text"), num_threads=1)
        sources = np.array(table.column("source").to_pylist(), dtype=object)
        for source in set(sources):
            rows = sources == source
            writer = writers.get(source) or writers.setdefault(source, ShardWriter(f"{out}/{source}-00000", tok.dtype))
            writer.add_documents(tokens[np.repeat(rows, lengths)], lengths[rows & (lengths > 0)])
    infos = [w.close() for w in writers.values()]
    return {"tokens": sum(i.tokens for i in infos), "documents": sum(i.documents for i in infos)}


def run_spark(inputs: dict, out: str, workers: int, conf: dict, fmt: str = "dir") -> dict:
    from corpus_tools.shards import PackConfig
    from pipelines import pack
    from pipelines.spark import get_session

    spark = get_session("bench-pack", f"local[{workers}]", {"spark.sql.shuffle.partitions": str(2 * workers), **conf})
    spark.range(1).count()  # session and first job up before the clock starts
    return {"spark": spark, "run": lambda: pack.run(spark, [inputs[fmt]], out, PackConfig(), overwrite=True)}


class MegatronEncoder:
    """preprocess_data.py's Encoder: a tokenizer per worker, json.loads + encode per document."""

    def __init__(self, model: str):
        self.model = model

    def initializer(self):
        import sentencepiece as spm

        MegatronEncoder.sp = spm.SentencePieceProcessor(model_file=self.model)
        MegatronEncoder.eod = MegatronEncoder.sp.eos_id()

    def encode(self, json_line):
        data = json.loads(json_line)
        text = data["text"]
        doc_ids = MegatronEncoder.sp.encode_as_ids(text)
        if len(doc_ids) > 0:
            doc_ids.append(MegatronEncoder.eod)
        return doc_ids, len(json_line)


def run_megatron(inputs: dict, out: str, workers: int) -> dict:
    import multiprocessing

    import numpy as np
    import torch
    from megatron.core.datasets.indexed_dataset import DType, IndexedDatasetBuilder

    from corpus_tools.tokenizer import default_base_tokenizer_path

    encoder = MegatronEncoder(default_base_tokenizer_path())
    tokens = docs = 0
    with open(inputs["file"], encoding="utf-8") as fin:
        pool = multiprocessing.Pool(workers, initializer=encoder.initializer)
        encoded = pool.imap(encoder.encode, fin, 25)
        builder = IndexedDatasetBuilder(f"{out}/text_document.bin", dtype=DType.optimal_dtype(32000))
        for doc_ids, _ in encoded:
            if doc_ids:
                builder.add_item(torch.IntTensor(doc_ids))
                tokens += len(doc_ids)
                docs += 1
            builder.end_document()
        builder.finalize(f"{out}/text_document.idx")
        pool.close()
        pool.join()
    assert np.dtype(DType.optimal_dtype(32000)) == np.uint16
    return {"tokens": tokens, "documents": docs}


def child(method: str, inputs_json: str, out: str, workers: int, result: str, conf: dict) -> None:
    from measure import TreeCpu

    inputs = json.loads(inputs_json)
    # Imports happen before the clock for every method (megatron's pulls in torch: ~10 s);
    # loading the tokenizer is inside it for all (Megatron's pool workers each load theirs).
    import pyarrow.json  # noqa: F401

    import corpus_tools.readers  # noqa: F401
    import corpus_tools.shards  # noqa: F401
    if method == "megatron":
        import megatron.core.datasets.indexed_dataset  # noqa: F401
    runner = {"corpus_tools": run_corpus_tools,
              "megatron": run_megatron}.get(method)
    prepared = run_spark(inputs, out, workers, conf, "parquet" if method == "spark_parquet" else "dir") \
        if method.startswith("spark") else None
    with TreeCpu() as cpu:
        t = time.perf_counter()
        if prepared:
            stats = prepared["run"]()
            got = {"tokens": stats["tokens"], "documents": stats["packed"]}
        else:
            got = runner(inputs, out, workers)
        wall = time.perf_counter() - t
    Path(result).write_text(json.dumps({**got, "wall_s": wall, "cpu_s": cpu.total(), "cpu_by_process": cpu.by_kind()}))
    if prepared:
        prepared["spark"].stop()


# ---------------------------------------------------------------- the parent

def peak_tree_memory(proc: subprocess.Popen, interval: float = 0.2) -> dict:
    """Peaks over time of the memory summed over the child and all its descendants, in MB: RSS
    (counts pages a forked pool shares with its parent once per process) and PSS (shares them out),
    and the PSS of the JVM alone (Spark's driver and executors in local mode)."""
    root, peak = psutil.Process(proc.pid), {"rss": 0.0, "pss": 0.0, "jvm_pss": 0.0}
    while proc.poll() is None:
        now = {"rss": 0.0, "pss": 0.0, "jvm_pss": 0.0}
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            break
        for p in procs:
            try:
                info, name = p.memory_full_info(), p.name()
            except psutil.Error:
                continue
            now["rss"] += info.rss / 1e6
            now["pss"] += info.pss / 1e6
            if "java" in name:
                now["jvm_pss"] += info.pss / 1e6
        peak = {k: max(peak[k], now[k]) for k in peak}
        time.sleep(interval)
    return peak


def measure(method: str, inputs: dict, work: Path, workers: int, conf: list[str]) -> dict:
    out = work / f"out-{method}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = work / f"result-{method}.json"
    cmd = [sys.executable, __file__, "--child", method, json.dumps(inputs), str(out / "pack"), str(result),
           "--workers", str(workers), "--conf", *conf]
    if not method.startswith("spark"):
        (out / "pack").mkdir()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = peak_tree_memory(proc)
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError(f"{method} failed:\n{err[-3000:]}")
    r = json.loads(result.read_text())
    mb = inputs["bytes"] / 1e6
    return {"method": method, "docs_in": inputs["docs"], "input_mb": round(mb, 1), **r, "peak_rss_mb": round(peak["rss"]), "peak_pss_mb": round(peak["pss"]),
            "peak_jvm_pss_mb": round(peak["jvm_pss"]),
            "tokens_per_s": r["tokens"] / r["wall_s"], "mb_per_s": mb / r["wall_s"],
            "tokens_per_cpu_s": r["tokens"] / r["cpu_s"], "mb_per_cpu_s": mb / r["cpu_s"]}


def print_table(rows: list[dict]) -> None:
    head = f"{'scale':>5} {'method':<18} {'MB':>6} {'tokens':>11} {'wall s':>7} {'CPU s':>7} {'tok/s':>9} " \
           f"{'tok/CPU-s':>10} {'MB/CPU-s':>9} {'peak RSS MB':>11} {'peak PSS MB':>11} {'of it JVM':>9}"
    print(head)
    for r in rows:
        print(f"{r['scale']:>4}x {r['method']:<18} {r['input_mb']:>6.1f} {r['tokens']:>11,} {r['wall_s']:>7.1f} "
              f"{r['cpu_s']:>7.1f} {r['tokens_per_s']:>9,.0f} {r['tokens_per_cpu_s']:>10,.0f} "
              f"{r['mb_per_cpu_s']:>9.2f} {r['peak_rss_mb']:>11,} {r['peak_pss_mb']:>11,} {r['peak_jvm_pss_mb']:>9,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=str(ROOT / "benchmarks/data/bench"))
    ap.add_argument("--base-mb", type=float, default=10.0)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--workers", type=int, default=2, help="Megatron's pool size and Spark's local[N]")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--json-out", default=str(ROOT / "benchmarks/results/pack.json"))
    ap.add_argument("--conf", nargs="*", default=[], metavar="KEY=VALUE",
                    help="Spark settings for the spark methods, e.g. spark.driver.memory=512m")
    ap.add_argument("--child", nargs=4, metavar=("METHOD", "INPUTS", "OUT", "RESULT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        conf = dict(pair.split("=", 1) for pair in args.conf)
        child(args.child[0], args.child[1], args.child[2], args.workers, args.child[3], conf)
        return

    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        inputs = make_inputs(Path(args.bench), Path(tmp) / "in", args.base_mb, args.scales, args.methods)
        for k in args.scales:
            for method in args.methods:
                print(f"[bench_pack] {k}x {method} ...", file=sys.stderr, flush=True)
                rows.append({"scale": k, **measure(method, inputs[k], Path(tmp) / f"{k}x", args.workers, args.conf)})
    print(f"machine: {os.cpu_count()} cores; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"spark conf {args.conf or 'default'}")
    print_table(rows)
    for r in rows:
        print(f"{r['scale']:>4}x {r['method']:<18} CPU s by process: " +
              ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu_by_process"].items())))
    by = {(r["scale"], r["method"]): r for r in rows}
    for k in args.scales:
        base = by.get((k, "megatron"))
        if base:
            for method in ("corpus_tools", "spark", "spark_parquet"):
                if (k, method) in by:
                    r = by[(k, method)]
                    print(f"{k}x: {method} / megatron per core: {r['tokens_per_cpu_s'] / base['tokens_per_cpu_s']:.2f}x "
                          f"(tokens {r['tokens']:,} vs {base['tokens']:,})")
    for method in args.methods:
        if (args.scales[0], method) in by and (args.scales[-1], method) in by and len(args.scales) > 1:
            a, b = by[(args.scales[0], method)], by[(args.scales[-1], method)]
            print(f"{method}: peak PSS {a['peak_pss_mb']:,} MB at {args.scales[0]}x -> {b['peak_pss_mb']:,} MB at "
                  f"{args.scales[-1]}x (RSS {a['peak_rss_mb']:,} -> {b['peak_rss_mb']:,})")
    os.makedirs(os.path.dirname(args.json_out), exist_ok=True)
    Path(args.json_out).write_text(json.dumps({"load_before": load_before, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
