"""Near-duplicate accuracy on the labelled set of `dedup_ground_truth.py`: our Spark job, datasketch
and DataTrove side by side, pairwise precision / recall / F1 against the known groups.

    .venv/bin/python benchmarks/dedup_ground_truth.py      # once: benchmarks/data/dedup/
    .venv/bin/python benchmarks/bench_dedup_accuracy.py    # -> benchmarks/results/dedup_accuracy.json

Truth: every pair of documents in one group (an original and its copies) is a duplicate pair,
every other pair is not. A method's predicted pairs are all pairs within each of its clusters (a
kept representative and the duplicates pointing to it); pairwise precision, recall and F1 follow.
Recall by copy kind counts only (original, copy) pairs; `hard_negatives_merged` counts hard
negatives put in one cluster with a group they must not join (see `negative_of`).

Methods, at the job's default threshold and shingle size (`DedupConfig`: 0.7, 3-grams) and 128
permutations unless named otherwise:
    ziya          `pipelines.dedup.run` on local[2], its defaults (LSH bands x rows by optimal_param
                  with false positives weighted 0.05, candidates verified by estimated Jaccard)
    ziya <b>x<r>  the same job with other bands x rows (and threshold, when named)
    datasketch    `MinHashLSH(threshold, num_perm=128)` over `MinHash.bulk` of our shingles:
                  insert all, query each, union-find the matches (no verification); also at the
                  customary 0.8 over 5-grams
    datatrove     DataTrove 0.10.1's MinHash pipeline, default config (14 x 8, 64-bit xxhash, its own
                  English word 5-grams), in `.venv-datatrove` (`datatrove_dedup_baseline.py`)
    oracle        exact Jaccard >= threshold of the shingle sets, connected components: the best any
                  MinHash dedup at that threshold can do on these shingles (no estimator noise)
A sweep of the same chain in-process (numpy signatures, band buckets, verification, union-find;
the Spark job's logic without Spark) tries bands x rows and thresholds cheaply; the setting it
picks is then run through the Spark job. Rows named "star" verify only the job's star edges
(each bucket member with the bucket's smallest id) and reproduce the Spark job's clusters; the
others verify every pair of a bucket.

Wall time: each method end to end on the 4 JSONL files, our job's Spark session start excluded
(reported apart), DataTrove's from its executor's start.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from corpus_tools.dedup import DedupConfig  # noqa: E402
from corpus_tools.minhash import MinHasher, band_hashes, optimal_param, shingles  # noqa: E402
from dedup_ground_truth import read_docs  # noqa: E402

COPY_KINDS = ("exact", "edit1", "edit3", "edit5", "swap")
NEGATIVE_KINDS = ("boilerplate30", "boilerplate50", "half")


class UnionFind:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def labels(self, ids):
        return {i: self.find(i) for i in ids}


# ------------------------------------------------------------------ scoring

def score(docs: list[dict], cluster: dict[str, str], reference: dict[str, str] | None = None) -> dict:
    """Pairwise precision/recall/F1 of `cluster` (id -> label; missing ids are singletons), also
    without the 5% (and 3%) edited copies, and the share of `reference`'s pairs (the oracle's) found."""
    out = _score(docs, cluster)
    for name, drop in (("without_edit5", {"edit5"}), ("without_edit3_edit5", {"edit3", "edit5"})):
        sub = _score([d for d in docs if d["kind"] not in drop], cluster)
        out[name] = {k: sub[k] for k in ("precision", "recall", "f1")}
    if reference is not None:
        ids = [d["id"] for d in docs]
        ref = Counter(reference.get(i, i) for i in ids)
        both = Counter((reference.get(i, i), cluster.get(i, i)) for i in ids)
        out["oracle_pairs_found"] = round(sum(comb(n, 2) for n in both.values()) / max(1, sum(comb(n, 2) for n in ref.values())), 4)
    return out


def _score(docs: list[dict], cluster: dict[str, str]) -> dict:
    label = {d["id"]: cluster.get(d["id"], d["id"]) for d in docs}
    by_group, by_label, cells = Counter(), Counter(), Counter()
    for d in docs:
        by_group[d["group"]] += 1
        by_label[label[d["id"]]] += 1
        cells[(d["group"], label[d["id"]])] += 1
    true_pairs = sum(comb(n, 2) for n in by_group.values())
    predicted = sum(comb(n, 2) for n in by_label.values())
    tp = sum(comb(n, 2) for n in cells.values())
    p = tp / predicted if predicted else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    original = {d["group"]: label[d["id"]] for d in docs if d["kind"] == "original"}
    found, total = Counter(), Counter()
    for d in docs:
        if d["kind"] in COPY_KINDS:
            for key in (d["kind"], f"{d['lang']}/{d['kind']}"):
                total[key] += 1
                found[key] += label[d["id"]] == original[d["group"]]
    members = defaultdict(set)
    for d in docs:
        members[d["group"]].add(label[d["id"]])
    merged = Counter()
    for d in docs:
        for g in d["negative_of"]:
            merged[d["kind"]] += label[d["id"]] in members[g]
    return {
        "precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
        "true_pairs": true_pairs, "predicted_pairs": predicted, "true_positive_pairs": tp,
        "false_positive_pairs": predicted - tp,
        "recall_by_kind": {k: round(found[k] / total[k], 4) for k in sorted(total)},
        "hard_negatives_merged": sum(merged.values()),
        "hard_negatives_merged_by_kind": {k: merged[k] for k in NEGATIVE_KINDS},
        "clusters": len(by_label),
    }


# ------------------------------------------------------------------ methods

def cluster_from_edges(ids: list[str], edges) -> dict[str, str]:
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return uf.labels(ids)


def bucket_edges(ids: list[str], keys: np.ndarray):
    """(first member, other member) of every LSH bucket with two or more documents."""
    buckets = defaultdict(list)
    for i, row in zip(ids, keys.tolist()):
        for band, h in enumerate(row):
            buckets[(band, h)].append(i)
    for members in buckets.values():
        for other in members[1:]:
            yield members[0], other


def candidate_pairs(keys: np.ndarray, star: bool = False) -> set[tuple[int, int]]:
    """Every pair of row indices sharing an LSH bucket; star: only each member with the bucket's
    first (smallest id, as rows are in id order), as `pipelines.dedup.candidate_edges` does."""
    buckets = defaultdict(list)
    for i, row in enumerate(keys.tolist()):
        for band, h in enumerate(row):
            buckets[(band, h)].append(i)
    pairs = set()
    for members in buckets.values():
        for x in range(1 if star else len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs


def oracle(docs: list[dict], sigs: np.ndarray, threshold: float, ngram: int) -> tuple[dict, dict]:
    """Exact Jaccard >= threshold (candidates: 32 x 4 bands, which miss a pair at J = 0.8 with
    probability 5e-8), and the exact Jaccard of every hard negative with its groups."""
    ids = [d["id"] for d in docs]
    sets = [set(shingles(d["text"], ngram)) for d in docs]
    jac = {}
    for a, b in candidate_pairs(band_hashes(sigs, 32, 4)):
        u = len(sets[a] | sets[b])
        jac[(a, b)] = len(sets[a] & sets[b]) / u if u else 1.0
    edges = [(ids[a], ids[b]) for (a, b), j in jac.items() if j >= threshold]
    members = defaultdict(list)
    for n, d in enumerate(docs):
        members[d["group"]].append(n)
    worst = defaultdict(float)
    for n, d in enumerate(docs):
        for g in d["negative_of"]:
            for m in members[g]:
                u = len(sets[n] | sets[m])
                worst[d["kind"]] = max(worst[d["kind"]], len(sets[n] & sets[m]) / u if u else 1.0)
    return cluster_from_edges(ids, edges), {k: round(v, 4) for k, v in sorted(worst.items())}


def model(docs: list[dict], sigs: np.ndarray, bands: int, rows: int, threshold: float | None, star: bool = False) -> dict:
    """The Spark job's chain without Spark: band buckets, candidate edges (all pairs of a bucket,
    or the job's star), verification by estimated Jaccard >= threshold (None: none), connected
    components. `docs` are in id order."""
    ids = [d["id"] for d in docs]
    pairs = candidate_pairs(band_hashes(sigs, bands, rows), star)
    if threshold is not None and pairs:
        a, b = np.array(sorted(pairs)).T
        keep = (sigs[a] == sigs[b]).mean(axis=1) >= threshold
        pairs = zip(a[keep].tolist(), b[keep].tolist())
    return cluster_from_edges(ids, ((ids[x], ids[y]) for x, y in pairs))


def run_datasketch(docs: list[dict], threshold: float, num_perm: int, ngram: int) -> tuple[dict, float, dict]:
    from datasketch import MinHash, MinHashLSH

    ids = [d["id"] for d in docs]
    t = time.perf_counter()
    sketches = MinHash.bulk([shingles(d["text"], ngram) for d in docs], num_perm=num_perm)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for i, m in zip(ids, sketches):
        lsh.insert(i, m)
    edges = [(i, j) for i, m in zip(ids, sketches) for j in lsh.query(m) if j != i]
    clusters = cluster_from_edges(ids, edges)
    return clusters, time.perf_counter() - t, {"bands": lsh.b, "rows": lsh.r, "signatures": sketches}


def run_datatrove(docs_dir: Path, workers: int) -> tuple[dict | None, dict]:
    python = ROOT / ".venv-datatrove/bin/python"
    if not python.exists():
        return None, {"skipped": "no .venv-datatrove (bash benchmarks/setup_datatrove.sh)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dt.json"
        t = time.perf_counter()
        proc = subprocess.run([str(python), str(ROOT / "benchmarks/datatrove_dedup_baseline.py"), "--input", str(docs_dir),
                               "--output", str(Path(tmp) / "work"), "--workers", str(workers), "--json-out", str(out)],
                              capture_output=True, text=True)
        process_wall = time.perf_counter() - t
        if proc.returncode:
            return None, {"failed": proc.stderr[-2000:]}
        result = json.loads(out.read_text())
    clusters = result.pop("clusters")
    return clusters, {**result, "process_wall_s": round(process_wall, 2)}


def spark_clusters(output: str) -> dict[str, str]:
    """id -> kept representative, from the job's kept/ and duplicates/."""
    import pyarrow.parquet as pq

    clusters = {i: i for i in pq.read_table(f"{output}/kept", columns=["id"]).column("id").to_pylist()}
    dup = pq.read_table(f"{output}/duplicates", columns=["id", "cluster_id"]).to_pydict()
    uf = UnionFind()  # cluster_id is the kept representative; resolve chains all the same
    for i, c in zip(dup["id"], dup["cluster_id"]):
        uf.union(i, c)
    for i in list(clusters) + dup["id"]:
        clusters[i] = uf.find(i)
    return clusters


def run_spark(spark, docs_dir: Path, work: Path, settings: dict) -> tuple[dict, float, dict]:
    from corpus_tools.dedup import DedupConfig
    from pipelines import dedup

    out = work / ("ziya-" + "-".join(f"{k}{v}" for k, v in settings.items()))
    cfg = DedupConfig.from_dict(dict(settings))
    t = time.perf_counter()
    stats = dedup.run(spark, [str(docs_dir)], str(out), cfg, overwrite=True)
    wall = time.perf_counter() - t
    return spark_clusters(str(out)), wall, stats


# ------------------------------------------------------------------ main

def row(name: str, s: dict, wall: float | None) -> str:
    kinds = s["recall_by_kind"]
    cells = " ".join(f"{kinds.get(k, float('nan')):6.3f}" for k in COPY_KINDS)
    w = f"{wall:7.1f}" if wall is not None else "      -"
    return (f"{name:<26} {s['precision']:6.4f} {s['recall']:6.4f} {s['f1']:6.4f} {s['without_edit5']['f1']:6.4f} "
            f"{s.get('oracle_pairs_found', 1.0):6.4f}  {cells}  {s['hard_negatives_merged']:4d} {w}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT / "benchmarks/data/dedup"))
    ap.add_argument("--threshold", type=float, default=DedupConfig().threshold)
    ap.add_argument("--ngram", type=int, default=DedupConfig().ngram)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--spark", nargs="*", default=["default", "32x4@0.6"],
                    help="Spark job runs: 'default', BxR (verified at --threshold) or BxR@T (threshold T); none: skip")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--workers", type=int, default=2, help="Spark local[N] and DataTrove workers")
    ap.add_argument("--json-out", default=str(ROOT / "benchmarks/results/dedup_accuracy.json"))
    args = ap.parse_args()

    data = Path(args.data)
    docs = read_docs(data)
    manifest = json.loads((data / "manifest.json").read_text())
    print(f"{len(docs)} documents, {len({d['group'] for d in docs})} groups, {manifest['text_bytes'] / 1e6:.1f} MB")
    hasher = MinHasher(num_perm=args.num_perm, seed=1, ngram=args.ngram)
    t = time.perf_counter()
    sigs = hasher.signatures([d["text"] for d in docs])
    sig_s = time.perf_counter() - t
    results, walls = {}, {}

    t = time.perf_counter()
    oracle_clusters, negative_jaccard = oracle(docs, sigs, args.threshold, args.ngram)
    results["oracle (exact J >= %.2g)" % args.threshold] = score(docs, oracle_clusters, oracle_clusters)
    walls["oracle (exact J >= %.2g)" % args.threshold] = None
    print(f"oracle: {time.perf_counter() - t:.1f} s; highest exact Jaccard of a hard negative with its groups: {negative_jaccard}")

    ds_clusters, ds_wall, ds_info = run_datasketch(docs, args.threshold, args.num_perm, args.ngram)
    identical = all(np.array_equal(m.hashvalues, s) for m, s in zip(ds_info.pop("signatures"), sigs))
    results["datasketch"], walls["datasketch"] = score(docs, ds_clusters, oracle_clusters), ds_wall
    results["datasketch"]["config"] = {**ds_info, "signatures_identical_to_ours": identical}
    if (args.threshold, args.ngram) != (0.8, 5):  # the customary setting, for reference
        ds_clusters, ds_wall, ds_info = run_datasketch(docs, 0.8, args.num_perm, 5)
        ds_info.pop("signatures")
        results["datasketch 0.8, 5-grams"], walls["datasketch 0.8, 5-grams"] = score(docs, ds_clusters, oracle_clusters), ds_wall
        results["datasketch 0.8, 5-grams"]["config"] = ds_info

    dt_info = {"skipped": "--no-datatrove"}
    if not args.no_datatrove:
        dt_clusters, dt_info = run_datatrove(data / "docs", args.workers)
        if dt_clusters is not None:
            results["datatrove"], walls["datatrove"] = score(docs, dt_clusters, oracle_clusters), dt_info["wall_s"]
            results["datatrove"]["config"] = dt_info["config"]

    # The job's chain in-process: which bands x rows / threshold reach the target?
    sweep = {}
    job_default = DedupConfig(threshold=args.threshold, num_perm=args.num_perm, ngram=args.ngram).resolved()
    default_b, default_r = job_default.bands, job_default.rows  # what `ziya dedup` picks by default
    settings = [(default_b, default_r, args.threshold), (default_b, default_r, None),
                (16, 8, args.threshold), (20, 6, args.threshold), (25, 5, args.threshold), (32, 4, args.threshold),
                (*optimal_param(0.7, args.num_perm), 0.7), (20, 6, 0.7), (32, 4, 0.7), (32, 4, 0.65),
                (32, 4, 0.6), (32, 4, 0.55), (42, 3, 0.55), (42, 3, 0.5)]
    for b, r, th in settings:
        name = f"{b}x{r} verify {th}" if th is not None else f"{b}x{r} no verify"
        sweep[name] = score(docs, model(docs, sigs, b, r, th), oracle_clusters)
        sweep[name]["lsh_threshold_approx"] = round((1 / b) ** (1 / r), 3)
    for b, r, th in [(default_b, default_r, args.threshold), (20, 6, args.threshold), (32, 4, 0.6), (32, 4, 0.55)]:
        # The job's star edges: a pair is verified only if one of them is its bucket's root.
        name = f"{b}x{r} verify {th} star"
        sweep[name] = score(docs, model(docs, sigs, b, r, th, star=True), oracle_clusters)
        sweep[name]["lsh_threshold_approx"] = round((1 / b) ** (1 / r), 3)

    spark_runs, spark_start = {}, None
    if args.spark:
        from pipelines import dedup
        from pipelines.spark import get_session

        t = time.perf_counter()  # the session `ziya dedup` would start on this machine
        spark = get_session("bench-dedup-accuracy", f"local[{args.workers}]")
        spark_start = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as work:
            for setting in args.spark:
                if setting == "default":
                    name, conf = f"ziya (default {default_b}x{default_r})", {}
                else:  # BxR or BxR@threshold
                    bands, _, th = setting.partition("@")
                    b, r = map(int, bands.split("x"))
                    th = float(th) if th else args.threshold
                    name, conf = f"ziya {b}x{r} verify {th}", {"bands": b, "rows": r, "threshold": th}
                conf = {"ngram": args.ngram, "threshold": args.threshold, **conf}
                clusters, wall, stats = run_spark(spark, data / "docs", Path(work), conf)
                results[name], walls[name] = score(docs, clusters, oracle_clusters), wall
                results[name]["config"] = {"threshold": args.threshold, "num_perm": args.num_perm, **conf}
                results[name]["near"] = stats.get("near")
                spark_runs[name] = stats
        spark.stop()

    header = (f"{'method':<26} {'prec':>6} {'recall':>6} {'F1':>6} {'F1-e5':>6} {'orcl%':>6}  " + " ".join(f"{k:>6}" for k in COPY_KINDS)
              + "  hard  wall_s")
    print("\nthreshold %.2g, %d-gram shingles, %d permutations; F1-e5: F1 without the 5%%-edited copies; orcl%%: share of the oracle's"
          " pairs found;\nrecall by copy kind = (original, copy) pairs found; hard: hard negatives merged" % (args.threshold, args.ngram, args.num_perm))
    print(header)
    for name, s in results.items():
        print(row(name, s, walls.get(name)))
    print("\nin-process sweep of the job's chain (same signatures):")
    print(header.replace("  hard  wall_s", "  hard"))
    for name, s in sweep.items():
        print(row(name, s, None)[:-8])
    if spark_start is not None:
        print(f"\nSpark session start (not in wall_s): {spark_start:.1f} s; our signatures in-process: {sig_s:.2f} s")

    report = {
        "data": {"docs": len(docs), "groups": manifest["groups"], "text_mb": round(manifest["text_bytes"] / 1e6, 2),
                 "counts": manifest["counts"], "copy_true_jaccard": manifest["copy_true_jaccard"],
                 "hard_negative_max_true_jaccard": negative_jaccard, "seed": manifest["seed"]},
        "threshold": args.threshold, "ngram": args.ngram, "num_perm": args.num_perm,
        "results": {name: {**s, "wall_s": None if walls.get(name) is None else round(walls[name], 2)}
                    for name, s in results.items()},
        "sweep_in_process": sweep,
        "spark": {"session_start_s": None if spark_start is None else round(spark_start, 2),
                  "master": f"local[{args.workers}]", "stats": spark_runs},
        "datatrove": dt_info,
        "machine": {"cores": os.cpu_count()},
    }
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"-> {args.json_out}")


if __name__ == "__main__":
    main()
