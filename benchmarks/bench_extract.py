"""Web ingestion: our WARC -> text -> clean path against DataTrove's WarcReader + Trafilatura, on the
same crawl in the same run, and extraction quality on the sample crawl's known main text.

    bash benchmarks/setup_datatrove.sh     # once: .venv-datatrove
    .venv/bin/python benchmarks/bench_extract.py [--pages 6000] [--cores 2] [--json-out FILE]

The crawl is made by scripts/build_sample_warc.py --pages N (real Debian-handbook pages in site
templates, Chinese in GBK/GB18030/Big5, Japanese in Shift-JIS, European pages in windows-1252),
written as `--cores` files so both tools get one task per core. Runs:
  1. extract, one process: WARC -> documents (read, decode, main text), ours with each extractor
     (corpus_tools.readers.read_split) and DataTrove's (WarcReader -> Trafilatura, 1 worker);
  2. clean, all cores: `ziya clean` (Spark local[N], the default rules) on the WARC, and DataTrove's
     WarcReader -> Trafilatura -> LanguageFilter -> Gopher -> C4 -> FineWeb (datatrove_baseline.py);
  3. quality on data/web/handbook_crawl.warc.gz against data/web/handbook_crawl.main.jsonl: per encoding, the share
     of main paragraphs recovered (a paragraph counts when its whitespace-collapsed text is inside the
     extracted text) and of boilerplate lines kept (a line of the output equal to one).
Pages = HTML 200 responses; per-core figures divide by CPU seconds summed over the process tree
(JVM and Python workers, DataTrove's forked workers), as the other benchmarks do.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from bench_clean import spark  # noqa: E402
from corpus_tools.readers import InputConfig, plan_splits, read_split  # noqa: E402
from corpus_tools.warc import WebConfig  # noqa: E402

DT_PYTHON = os.path.join(REPO, ".venv-datatrove", "bin", "python")
SAMPLE = os.path.join(REPO, "data", "web", "handbook_crawl.warc.gz")
TRUTH = os.path.join(REPO, "data", "web", "handbook_crawl.main.jsonl")
EXTRACTORS = ("resiliparse", "trafilatura")
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def build_crawl(pages: int, parts: int, folder: str) -> list[str]:
    """`parts` WARC files of pages/parts pages each, made once and reused."""
    os.makedirs(folder, exist_ok=True)
    files = []
    for k in range(parts):
        path = os.path.join(folder, f"bench-{pages}-{k}.warc.gz")
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(REPO, "scripts", "build_sample_warc.py"),
                            "--pages", str(pages // parts), "--seed", str(k), "--output", path], check=True)
        files.append(path)
    return files


def our_documents(files: list[str], extractor: str):
    cfg = InputConfig(web=WebConfig(extractor=extractor))
    for split in plan_splits(files, cfg.split_bytes):
        for batch in read_split(split, cfg):
            yield from batch.documents.to_pylist()


def our_extract(files: list[str], extractor: str) -> dict:
    """WARC -> documents in this process: pages per CPU-second."""
    start_cpu, start = time.process_time(), time.perf_counter()
    pages = sum(1 for _ in our_documents(files, extractor))
    return rates(f"ours, {extractor}", files, pages, time.perf_counter() - start, time.process_time() - start_cpu)


def rates(name: str, files: list[str], pages: int, wall: float, cpu: float) -> dict:
    mb = sum(os.path.getsize(f) for f in files) / 1e6
    return {"run": name, "input_mb": round(mb, 2), "pages": pages, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "pages_per_cpu_s": round(pages / cpu, 1), "mb_per_s_per_core": round(mb / cpu, 3)}


def datatrove(files: list[str], workers: int, filters: bool, out: str) -> dict | None:
    if not os.path.exists(DT_PYTHON):
        print("datatrove: .venv-datatrove missing (bash benchmarks/setup_datatrove.sh); skipped", file=sys.stderr)
        return None
    json_out = os.path.join(out, "dt.json")
    subprocess.run([DT_PYTHON, os.path.join(REPO, "benchmarks", "datatrove_extract_baseline.py"), "--input", *files,
                    "--workers", str(workers), "--output", out, "--json-out", json_out, *(["--filters"] if filters else [])],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(json_out) as f:
        result = json.load(f)
    result["run"] = "datatrove, trafilatura" + (" + filters" if filters else "")
    return result


def datatrove_texts(out: str) -> dict[str, str]:
    texts = {}
    for name in sorted(os.listdir(os.path.join(out, "data"))):
        with open(os.path.join(out, "data", name), encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                texts[doc["id"].strip("<>")] = doc["text"]
    return texts


def sample_without_cut_record(folder: str) -> str:
    """The sample crawl without its truncated last member: DataTrove's WarcReader (warcio over
    gzip) raises on it and the task fails (ours quarantines it)."""
    import zlib

    data = open(SAMPLE, "rb").read()
    pos, keep = 0, 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            d.decompress(data[pos:])
        except zlib.error:
            break
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
        keep = pos
    path = os.path.join(folder, "sample-whole-records.warc.gz")
    with open(path, "wb") as f:
        f.write(data[:keep])
    return path


def quality(texts: dict[str, str], truth: list[dict]) -> dict:
    """Per encoding (and all): main paragraphs recovered, boilerplate lines kept, pages missing."""
    by = defaultdict(lambda: {"pages": 0, "missing_pages": 0, "main": 0, "found": 0, "boiler": 0, "kept_boiler": 0})
    for page in truth:
        text = texts.get(page["record_id"].strip("<>"))
        for key in (f"{page['encoding']} ({page['declared']})", "all"):
            row = by[key]
            row["pages"] += 1
            if text is None:
                row["missing_pages"] += 1
            flat = squash(text or "")
            lines = {squash(line) for line in (text or "").splitlines()}
            row["main"] += len(page["main"])
            row["found"] += sum(squash(p) in flat for p in page["main"])
            boilerplate = [b for b in page["boilerplate"] if squash(b) not in map(squash, page["main"])]
            row["boiler"] += len(boilerplate)
            row["kept_boiler"] += sum(squash(b) in lines for b in boilerplate)
    return {k: {"pages": r["pages"], "missing_pages": r["missing_pages"],
                "main_recovered": round(r["found"] / r["main"], 4) if r["main"] else None,
                "boilerplate_kept": round(r["kept_boiler"] / r["boiler"], 4) if r["boiler"] else None}
            for k, r in sorted(by.items())}


def quality_runs(tmp: str) -> dict:
    with open(TRUTH, encoding="utf-8") as f:
        truth = [json.loads(line) for line in f if line.strip()]
    runs = {}
    for extractor in EXTRACTORS:
        texts = {d["id"]: d["text"] for d in our_documents([SAMPLE], extractor)}
        runs[f"ours, {extractor}"] = quality(texts, truth)
    if os.path.exists(DT_PYTHON):
        out = os.path.join(tmp, "dt-quality")
        datatrove([sample_without_cut_record(tmp)], 1, False, out)
        runs["datatrove, trafilatura"] = quality(datatrove_texts(out), truth)
    return runs


def print_table(title: str, rows: list[dict], keys: list[str]) -> None:
    print(f"\n{title}")
    print("  " + " | ".join(f"{k:>17}" for k in ["run", *keys]))
    for r in rows:
        print("  " + " | ".join(f"{str(r.get(k, '')):>17}" for k in ["run", *keys]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=6000, help="HTML pages in the timed crawl")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--data", default=os.path.join(REPO, "benchmarks", "data", "web"))
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()

    files = build_crawl(args.pages, args.cores, args.data)
    tmp = tempfile.mkdtemp(prefix="bench-extract-")
    try:
        extract = [our_extract(files, e) for e in EXTRACTORS]
        dt = datatrove(files, 1, False, os.path.join(tmp, "dt-extract"))
        extract += [dt] if dt else []
        ours_clean = spark(files, args.cores)
        ours_clean["run"] = f"ours, ziya clean local[{args.cores}]"
        ours_clean["pages"] = ours_clean["input_docs"]
        ours_clean["pages_per_cpu_s"] = round(ours_clean["input_docs"] / ours_clean["cpu_s"], 1)
        clean = [ours_clean]
        dt_clean = datatrove(files, args.cores, True, os.path.join(tmp, "dt-clean"))
        clean += [dt_clean] if dt_clean else []
        quality_table = quality_runs(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    keys = ["input_mb", "pages", "wall_s", "cpu_s", "pages_per_cpu_s", "mb_per_s_per_core"]
    print_table("extract (WARC -> documents), one process", extract, keys)
    print_table(f"clean (WARC -> kept documents), {args.cores} cores", clean, keys + ["kept_docs"])
    ratios = {}
    if dt:
        ratios["extract_per_core_resiliparse_vs_datatrove"] = round(extract[0]["pages_per_cpu_s"] / dt["pages_per_cpu_s"], 2)
        ratios["extract_per_core_trafilatura_vs_datatrove"] = round(extract[1]["pages_per_cpu_s"] / dt["pages_per_cpu_s"], 2)
    if dt_clean:
        ratios["clean_per_core_vs_datatrove"] = round(ours_clean["pages_per_cpu_s"] / dt_clean["pages_per_cpu_s"], 2)
    print("\nratios (pages per CPU-second, ours / DataTrove):", json.dumps(ratios))
    print("\nquality on data/web/handbook_crawl.warc.gz (main paragraphs recovered, boilerplate lines kept):")
    for run, table in quality_table.items():
        print(f"  {run}")
        for enc, r in table.items():
            print(f"    {enc:>24}: pages {r['pages']:4d}  missing {r['missing_pages']:3d}  main {r['main_recovered']}  "
                  f"boilerplate {r['boilerplate_kept']}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"extract": extract, "clean": clean, "ratios": ratios, "quality": quality_table}, f, indent=2)


if __name__ == "__main__":
    main()
