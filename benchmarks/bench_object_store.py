"""The cost of object storage against local disk: `ziya clean` and `ziya pack` with input and
output on local disk, then on a real S3-protocol server on 127.0.0.1 (moto's), in the same run.

    .venv/bin/python benchmarks/bench_object_store.py                 # 50 MB, best of 2
    .venv/bin/python benchmarks/bench_object_store.py --mb 200 --repeat 3

Input: data/sample's JSON lines repeated with fresh ids until --mb MB, as files of ~8 MB (JSONL,
uncompressed), uploaded once to s3://bench/in (not timed). Both media run in one Spark session
(local[*]); the order alternates per repeat, and each figure is the best of the repeats. Per MB:
wall seconds and CPU seconds of the whole process tree (this process, the JVM, Python workers and
the S3 server, measure.TreeCpu) per input MB. Target: s3 within 15% of local disk (wall time).
The outputs on both media are compared (tests/digests.stage_digest). Loopback S3 has no network
latency or bandwidth limit: this measures the storage layer's own overhead (requests, copies,
buffering), not a real network's.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from measure import TreeCpu  # noqa: E402

TARGET = 1.15
FILE_MB = 8


def sample_lines():
    for path in sorted((ROOT / "data" / "sample").glob("*.jsonl.zst")):
        with open(path, "rb") as f:
            yield from zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()


def make_input(folder: Path, mb: float) -> int:
    """JSONL files of ~FILE_MB MB under `folder`, --mb MB in all; the bytes written."""
    base = [json.loads(line) for line in sample_lines()]
    folder.mkdir(parents=True)
    total, part, rnd = 0, 0, 0
    while total < mb * 1e6:
        with open(folder / f"part-{part:04d}.jsonl", "wb") as f:
            size = 0
            while size < FILE_MB * 1e6 and total + size < mb * 1e6:
                doc = base[rnd % len(base)]
                line = (json.dumps({**doc, "id": f"{doc['id']}-r{rnd // len(base)}"}, ensure_ascii=False) + "\n").encode()
                f.write(line)
                size, rnd = size + len(line), rnd + 1
        total, part = total + size, part + 1
    return total


def upload(local: Path, remote: str) -> None:
    from corpus_tools import storage

    for path in sorted(local.iterdir()):
        storage.write_atomically(f"{remote}/{path.name}", path.read_bytes())


def timed(fn) -> tuple[float, float]:
    with TreeCpu() as cpu:
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
    return wall, cpu.total()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--shard-tokens", type=int, default=5_000_000)
    args = ap.parse_args()

    from tests.digests import stage_digest
    from tests.services import S3Service, moto_s3_server

    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as scratch, moto_s3_server(scratch) as url:
        service = S3Service(url)
        os.environ.update(service.env())  # before the Spark session: its workers inherit it
        service.filesystem(allow_bucket_creation=True).create_dir("bench")

        import pyarrow
        from corpus_tools import storage
        from corpus_tools.clean import CleanConfig
        from corpus_tools.shards import PackConfig
        from pipelines import clean, pack
        from pipelines.spark import get_session

        work = Path(scratch)
        nbytes = make_input(work / "in", args.mb)
        upload(work / "in", "s3://bench/in")
        mb = nbytes / 1e6
        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, pyarrow {pyarrow.__version__}; "
              f"input {mb:.1f} MB in {len(os.listdir(work / 'in'))} files; S3: moto at {url}")
        spark = get_session("bench-object-store", "local[*]", {"spark.ui.showConsoleProgress": "false"})
        roots = {"local": str(work / "out"), "s3": "s3://bench/out"}
        inputs = {"local": str(work / "in"), "s3": "s3://bench/in"}
        best: dict[tuple[str, str], tuple[float, float]] = {}
        digests: dict[tuple[str, str], dict] = {}

        def record(stage, medium, figures, out):
            if (stage, medium) not in best or figures[0] < best[stage, medium][0]:
                best[stage, medium] = figures
            digests[stage, medium] = stage_digest(out)

        for r in range(args.repeat):
            for medium in (("local", "s3") if r % 2 == 0 else ("s3", "local")):
                base = storage.join(roots[medium], f"r{r}")
                c, p = storage.join(base, "clean"), storage.join(base, "pack")
                record("clean", medium, timed(lambda: clean.run(spark, [inputs[medium]], c, CleanConfig())), c)
                record("pack", medium, timed(lambda: pack.run(spark, [c], p, PackConfig(shard_tokens=args.shard_tokens))), p)
        spark.stop()

    print(f"\n{'stage':6} {'medium':6} {'wall s':>7} {'MB/s':>6} {'CPU s':>7} {'CPU s/MB':>8}")
    for (stage, medium), (wall, cpu) in sorted(best.items()):
        print(f"{stage:6} {medium:6} {wall:7.1f} {mb / wall:6.2f} {cpu:7.1f} {cpu / mb:8.3f}")
    print()
    for stage in ("clean", "pack"):
        (lw, lc), (sw, sc) = best[stage, "local"], best[stage, "s3"]
        same = digests[stage, "local"] == digests[stage, "s3"]
        print(f"{stage}: s3 / local wall {sw / lw:.2f}x, CPU {sc / lc:.2f}x "
              f"({'within' if sw / lw <= TARGET else 'OVER'} the {TARGET:.2f}x target); outputs identical: {same}")


if __name__ == "__main__":
    main()
