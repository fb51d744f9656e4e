"""DataTrove 0.10.1's n-gram decontamination (NGramsDecontIndexer + NGramsDecontFilter) on a local
benchmark file and a folder of JSONL files: index build, the filter job, the filter alone in one
process, and the ids it removed.

    .venv-datatrove/bin/python benchmarks/datatrove_decont_baseline.py --benchmark items.jsonl \
        --input corpus/*.jsonl --workers 2 --output /tmp/dt-decont --json-out /tmp/dt-decont.json

The indexer reads benchmark tasks through lighteval (not installed here, and it would download
them); `LocalNGramsDecontIndexer` runs the same `compute_hashes` on documents from a JsonlReader
(text = the item's answer, metadata.query = its question), as the indexer's own `data` path does,
and writes the same `<task>.index.hashes` file, without importing lighteval. Config:
`NGramsDecontConfig(n_grams=13, find_query_ngrams=True)`: 13-grams like ours, and the question's
own n-grams too (the default, False, only looks for answer and question+answer n-grams, so a copy
of a question alone is never found). Normalization (`simplify_text`: lowercase, digits -> 0,
punctuation -> space, NFD minus combining marks), word tokenizer and 64-bit xxhash are
DataTrove's defaults; `--language` picks the word tokenizer for both steps (eng: spaCy's English;
cmn: spaCy's Chinese with jieba). HF_HUB_OFFLINE=1 before any import: nothing downloads.

Figures: MB = 10^6 bytes of the input JSONL files; CPU summed over the process tree
(benchmarks/measure.py TreeCpu: the executor's forked workers); `peak_worker_rss_mib` is the
largest RSS a worker process reached (sampled every 0.1 s). `--inprocess-files`: the filter's
`filter(doc)` alone, timed by this process's CPU clock over those files (JSON parsing excluded).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datatrove_baseline import run_arguments, run_steps  # noqa: E402  (benchmarks/)
from measure import Sampler  # noqa: E402

TASK = "bench"


def config() -> NGramsDecontConfig:
    return NGramsDecontConfig(n_grams=13, find_query_ngrams=True)


class LocalNGramsDecontIndexer(NGramsDecontIndexer):
    """NGramsDecontIndexer fed only by the pipeline's documents: its `run` without the lighteval part."""

    def __new__(cls, *args, **kwargs):  # PipelineStep.__new__ would insist on lighteval being installed
        return object.__new__(cls)

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        hashes: dict[str, set] = {}
        for doc in data or ():
            hashes.setdefault(doc.metadata.get("task", "input"), set()).update(
                self.compute_hashes(doc.text, doc.metadata.get("query", None)))
        for task_name, task_hashes in hashes.items():
            array = np.array(list(task_hashes), dtype=self.config.hash_config.np_descr)
            with self.output_folder.open(f"{task_name.replace(' ', '_')}.index.hashes", mode="wb") as f:
                array.tofile(f)
        return iter(())


def item_adapter(self, data: dict, path: str, id_in_file: int):
    return {"text": data["answer"], "id": str(id_in_file), "metadata": {"query": data["question"], "task": TASK}}


class PeakRss(Sampler):
    """Largest RSS of any descendant process (the executor's workers), sampled every `interval` s."""

    peak = 0

    def sample(self):
        for p in psutil.Process().children(recursive=True):
            try:
                self.peak = max(self.peak, p.memory_info().rss)
            except psutil.Error:
                pass


def build_index(benchmark: Path, out: Path, language: str) -> dict:
    steps = lambda paths_file, root: [  # noqa: E731
        JsonlReader(root, paths_file=str(paths_file), adapter=item_adapter),
        LocalNGramsDecontIndexer(str(out / "index"), config=config(), language=language)]
    wall, cpu_s, _ = run_steps([benchmark.resolve()], out / "index-run", 1, 1, steps)
    files = list((out / "index").glob("*.index.hashes"))
    size = sum(f.stat().st_size for f in files)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu_s, 2), "bytes": size,
            "hashes": size // np.dtype(config().hash_config.np_descr).itemsize}


def filter_job(files: list[Path], out: Path, workers: int, language: str) -> dict:
    steps = lambda paths_file, root: [  # noqa: E731
        JsonlReader(root, paths_file=str(paths_file)),
        NGramsDecontFilter(str(out / "index"), config=config(), language=language,
                           exclusion_writer=JsonlWriter(str(out / "removed"), compression=None)),
        JsonlWriter(str(out / "data"), compression=None)]
    shutil.rmtree(out / "removed", ignore_errors=True)
    with PeakRss() as rss:
        wall, cpu_s, _ = run_steps(files, out, workers, len(files), steps)
    mb = sum(f.stat().st_size for f in files) / 1e6
    removed = {}
    for f in sorted((out / "removed").glob("*.jsonl")):
        for line in open(f, encoding="utf-8"):
            doc = json.loads(line)
            removed[doc["id"]] = doc["metadata"].get("contaminated_ngram")
    docs = sum(1 for f in files for line in open(f, encoding="utf-8") if line.strip())
    return {"input_mb": round(mb, 2), "docs": docs, "wall_s": round(wall, 2), "cpu_s": round(cpu_s, 2),
            "mb_per_s_per_core": round(mb / cpu_s, 3), "docs_per_cpu_s": round(docs / cpu_s, 1),
            "peak_worker_rss_mib": round(rss.peak / 2**20, 1), "removed": removed}


def filter_in_process(files: list[Path], out: Path, language: str) -> dict:
    step = NGramsDecontFilter(str(out / "index"), config=config(), language=language)
    start = time.process_time()
    step.load_index_hashes()
    load_cpu = time.process_time() - start
    step.filter(Document(text="warm up the tokenizer", id="warmup"))
    cpu, docs, size = 0.0, 0, 0
    for f in files:
        for line in open(f, "rb"):
            doc = json.loads(line)
            document = Document(text=doc["text"], id=doc["id"])
            start = time.process_time()
            step.filter(document)
            cpu += time.process_time() - start
            docs += 1
            size += len(line)
    return {"input_mb": round(size / 1e6, 2), "docs": docs, "cpu_s": round(cpu, 2),
            "index_load_cpu_s": round(load_cpu, 2),
            "mb_per_s_per_core": round(size / 1e6 / cpu, 3), "docs_per_cpu_s": round(docs / cpu, 1),
            "peak_rss_mib": round(peak_rss() / 2**20, 1)}


def peak_rss() -> int:
    """VmHWM: ru_maxrss would carry the forking parent's peak over exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def main() -> None:
    ap = run_arguments(__doc__.split("\n\n")[0], "JSONL files (id, text)")
    ap.add_argument("--benchmark", required=True, help="JSONL of items with question and answer fields")
    ap.add_argument("--language", default="eng", help="DataTrove word tokenizer (eng, cmn, ...)")
    ap.add_argument("--inprocess-files", nargs="*", default=[], help="files for the one-process filter timing")
    args = ap.parse_args()
    out = Path(args.output)
    files = [Path(f).resolve() for f in args.input]
    result = {"tool": "datatrove", "version": importlib.metadata.version("datatrove"), "language": args.language,
              "config": {"n_grams": config().n_grams, "find_query_ngrams": config().find_query_ngrams,
                         "find_overlap_ngrams": config().find_overlap_ngrams, "hash": str(config().hash_config)},
              "index": build_index(Path(args.benchmark), out, args.language),
              "job": filter_job(files, out, args.workers, args.language)}
    if args.inprocess_files:
        result["in_process"] = filter_in_process([Path(f) for f in args.inprocess_files], out, args.language)
    text = json.dumps(result, ensure_ascii=False)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "job"} | {
        "job": {k: v for k, v in result["job"].items() if k != "removed"}}, indent=1))


if __name__ == "__main__":
    main()
