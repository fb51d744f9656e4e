"""`ziya dedup` on a real Spark session: connected components against a union-find, an end-to-end
fixture with known duplicate groups, determinism across partitionings, reconciliation, the sample."""
from __future__ import annotations

import json
import os
import random

import pyarrow.parquet as pq
import pytest

from corpus_tools.dedup import DedupConfig
from pipelines import dedup
from pipelines.components import connected_components
from pipelines.stage import OutputExists


def read_dir(path: str) -> list[dict]:
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


# ---------------------------------------------------------------- connected components

def union_find_roots(edges: list[tuple[int, int]]) -> dict[int, int]:
    """node -> smallest node of its component, for every node that is not that smallest node."""
    parent: dict[int, int] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = {x: find(x) for x in list(parent)}
    return {x: r for x, r in roots.items() if x != r}


def components_of(spark, edges, **kw) -> tuple[dict, int]:
    df = spark.createDataFrame(edges, "u long, v long")
    components, rounds = connected_components(df, **kw)
    return {r.id: r.root for r in components.collect()}, rounds


def test_connected_components_of_a_long_chain_take_few_rounds(spark):
    chain = [(i, i + 1) for i in range(199)]
    found, rounds = components_of(spark, chain)
    assert found == union_find_roots(chain) == {i: 0 for i in range(1, 200)}
    assert rounds <= 10, rounds

    labels = list(range(200))
    random.Random(7).shuffle(labels)  # the same path, its nodes numbered at random
    shuffled = [(labels[i], labels[i + 1]) for i in range(199)]
    found, rounds = components_of(spark, shuffled)
    assert found == union_find_roots(shuffled)
    assert rounds <= 2 * 8, rounds  # O(log n): log2(200) ~ 7.6


def test_connected_components_of_stars_several_components_and_isolated_pairs(spark):
    rng = random.Random(3)
    edges = [(50, k) for k in range(51, 80)]  # a star whose centre is its smallest node
    edges += [(k, 120) for k in range(100, 120)]  # a star whose centre is its largest node
    edges += [(200, 201), (300, 302), (302, 301)]  # small components and a lone pair
    edges += [(rng.randrange(400, 450), rng.randrange(400, 450)) for _ in range(60)]  # a random graph
    edges += [(500, 500), (600, 601), (601, 600)]  # a self loop (isolated node), a doubled edge
    found, rounds = components_of(spark, edges)
    assert found == union_find_roots([e for e in edges if e[0] != e[1]])
    assert 500 not in found and found[601] == 600


def test_connected_components_of_no_edges(spark):
    found, rounds = components_of(spark, [])
    assert found == {} and rounds == 0


# ---------------------------------------------------------------- end to end

def words(seed: int, n: int = 300) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(100000)}" for _ in range(n)]


def edit(tokens: list[str], seed: int, k: int = 2) -> list[str]:
    rng = random.Random(seed)
    tokens = list(tokens)
    for i in rng.sample(range(len(tokens)), k):
        tokens[i] = f"x{rng.randrange(100000)}"
    return tokens


A, B, G = words(1), words(2), words(7)
B1 = edit(B, 10)
DOCS = [
    # exact copies: the same text, and again in other case and line wrapping
    {"id": "a0", "text": " ".join(A)},
    {"id": "a1", "text": " ".join(A)},
    {"id": "a2", "text": "\n".join(" ".join(A[i:i + 10]) for i in range(0, 300, 10)).upper()},
    # near copies: b1 edits b0, b2 edits b1 (a chain, one cluster)
    {"id": "b0", "text": " ".join(B)},
    {"id": "b1", "text": " ".join(B1)},
    {"id": "b2", "text": " ".join(edit(B1, 11))},
    # distinct documents, one sharing boilerplate with another
    {"id": "c0", "text": " ".join(words(3))},
    {"id": "d0", "text": " ".join(words(4))},
    {"id": "e0", "text": " ".join(words(5)[:150] + A[:150])},  # half of a0: Jaccard ~ 1/3
    # one page under two spellings of its URL
    {"id": "u0", "text": " ".join(words(6)), "url": "https://www.example.com/post/1?utm_source=feed"},
    {"id": "u1", "text": " ".join(words(8)), "url": "http://example.com/post/1/#comments"},
    {"id": "u2", "text": " ".join(words(9)), "url": "http://example.com/post/2"},
    # across phases: g2 is a URL duplicate of g1, which is an exact copy of g0
    {"id": "g0", "text": " ".join(G)},
    {"id": "g1", "text": " ".join(G), "url": "http://x.org/a"},
    {"id": "g2", "text": " ".join(words(12)), "url": "http://www.x.org/a?fbclid=1"},
    # no tokens: no signature, compared exactly only
    {"id": "p0", "text": " ... "},
]
EXPECTED_KEPT = {"a0", "b0", "c0", "d0", "e0", "u0", "u2", "g0", "p0"}
EXPECTED_DUPLICATES = {  # id: (cluster_id, phase)
    "a1": ("a0", "exact"), "a2": ("a0", "exact"),
    "b1": ("b0", "near"), "b2": ("b0", "near"),
    "u1": ("u0", "url"),
    "g1": ("g0", "exact"), "g2": ("g0", "url"),
}


def write_jsonl(path, records: list[dict], extra_lines: tuple[bytes, ...] = ()) -> None:
    with open(path, "wb") as f:
        for r in records:
            f.write(json.dumps(r).encode() + b"\n")
        for line in extra_lines:
            f.write(line)


@pytest.fixture(scope="module")
def fixture_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("dedup_fixture")
    os.makedirs(root / "in")
    write_jsonl(root / "in" / "docs.jsonl", DOCS, (b'{"text": "unterminated\n', b'{"id": "no-text"}\n'))
    out = str(root / "out")
    stats = dedup.run(spark, [str(root / "in")], out, DedupConfig())
    return root, out, stats


def test_fixture_keeps_one_document_per_duplicate_group(fixture_run):
    _, out, stats = fixture_run
    kept = read_dir(os.path.join(out, "kept"))
    duplicates = read_dir(os.path.join(out, "duplicates"))
    assert {r["id"] for r in kept} == EXPECTED_KEPT
    assert {r["id"]: (r["cluster_id"], r["phase"]) for r in duplicates} == EXPECTED_DUPLICATES
    assert {"id", "text", "source", "url", "meta"} <= set(kept[0])
    assert stats["duplicates_by_phase"] == {"url": 2, "exact": 3, "near": 2}
    assert stats["cluster_sizes"] == {"2": 1, "3": 3}  # u0+u1; a, b and g: three each
    assert stats["near"]["cc_rounds"] >= 1 and 2 <= stats["near"]["verified_edges"] <= 3  # b0-b1, b0-b2 (or b1-b2)


def test_fixture_accounts_for_every_record(fixture_run):
    _, out, stats = fixture_run
    kept, duplicates = read_dir(os.path.join(out, "kept")), read_dir(os.path.join(out, "duplicates"))
    quarantined = read_dir(os.path.join(out, "quarantine"))
    assert len(quarantined) == stats["quarantined"] == 2
    assert stats["input"] == len(DOCS) + 2 == len(kept) + len(duplicates) + len(quarantined)
    assert stats["reconciles"] and not {r["id"] for r in kept} & {r["id"] for r in duplicates}
    assert {"kept", "duplicates", "quarantine", "stats.json", "config.json", "_SUCCESS"} <= set(os.listdir(out))
    assert "staged_input" not in os.listdir(out)
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["threshold"] == DedupConfig().threshold and config["bands"] * config["rows"] <= config["num_perm"]


def test_rerun_is_a_no_op_and_a_different_config_is_refused(spark, fixture_run):
    root, out, stats = fixture_run
    assert dedup.run(spark, [str(root / "in")], out, DedupConfig()) == stats
    with pytest.raises(OutputExists):
        dedup.run(spark, [str(root / "in")], out, DedupConfig(threshold=0.75))


def test_same_kept_set_for_any_partitioning(spark, fixture_run, tmp_path):
    """Another partitioning of the input (three files, Parquet, another order) and of the shuffles."""
    _, out, _ = fixture_run
    import pyarrow as pa

    os.makedirs(tmp_path / "in")
    shuffled = list(reversed(DOCS))
    for k in range(3):
        rows = shuffled[k::3]
        pq.write_table(pa.Table.from_pylist([{"url": None, **r} for r in rows]), tmp_path / "in" / f"part-{k}.parquet")
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        dedup.run(spark, [str(tmp_path / "in")], str(tmp_path / "out"), DedupConfig())
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)
    again = read_dir(str(tmp_path / "out" / "duplicates"))
    assert {r["id"] for r in read_dir(str(tmp_path / "out" / "kept"))} == EXPECTED_KEPT
    assert sorted(map(str, again)) == sorted(map(str, read_dir(os.path.join(out, "duplicates"))))


def test_quality_column_chooses_the_representative(spark, tmp_path):
    import pyarrow as pa

    rows = [{"id": d["id"], "text": d["text"], "url": d.get("url"), "quality_score": q}
            for d, q in zip(DOCS[:6], [0.1, 0.9, None, 0.2, 0.3, 0.5])]
    os.makedirs(tmp_path / "in")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in" / "docs.parquet")
    stats = dedup.run(spark, [str(tmp_path / "in")], str(tmp_path / "out"), DedupConfig())
    kept = read_dir(str(tmp_path / "out" / "kept"))
    assert {r["id"] for r in kept} == {"a1", "b2"}  # the highest quality_score of each group
    assert stats["quality_column"] == "quality_score" and "quality_score" in kept[0]


# ---------------------------------------------------------------- the sample corpus

def test_sample_exact_duplicates_that_survived_clean_are_removed(spark, sample_clean_output, tmp_path):
    out = str(tmp_path / "dedup")
    stats = dedup.run(spark, [sample_clean_output], out, DedupConfig())  # a clean output dir: its kept/
    clean_kept = read_dir(os.path.join(sample_clean_output, "kept"))
    kept_ids = {r["id"] for r in read_dir(os.path.join(out, "kept"))}
    assert stats["input"] == len(clean_kept) == stats["kept"] + stats["duplicates"]

    ids = {r["id"] for r in clean_kept}
    meta = {r["id"]: json.loads(r["meta"] or "{}") for r in clean_kept}
    exact = [(i, m["dup_of"]) for i, m in meta.items() if m.get("kind") == "exact_duplicate" and m.get("dup_of") in ids]
    near = [(i, m["dup_of"]) for i, m in meta.items() if m.get("kind") == "near_duplicate" and m.get("dup_of") in ids]
    assert len(exact) >= 20, len(exact)
    found = sum(not (i in kept_ids and orig in kept_ids) for i, orig in exact)
    assert found / len(exact) >= 0.95, (found, len(exact))
    # The sample's near-duplicate pairs (meta kind "near_duplicate"): the committed code folds all 95
    # of them; one miss is tolerated, two are a regression.
    found_near = sum(not (i in kept_ids and orig in kept_ids) for i, orig in near)
    assert len(near) >= 90, len(near)
    assert found_near / len(near) >= 0.985, (found_near, len(near), stats["duplicates_by_phase"])


def test_hostile_raw_input_is_accounted_for(spark, tmp_path):
    """Raw JSONL read without meta (the pyarrow block path) meets the same damage as `ziya clean`."""
    from tests.hostile_inputs import ODD_IDS, count_input_records, write_bad_inputs

    (tmp_path / "in").mkdir()
    write_bad_inputs(tmp_path / "in", huge=False)
    stats = dedup.run(spark, [str(tmp_path / "in")], str(tmp_path / "out"), DedupConfig())
    kept, duplicates = read_dir(str(tmp_path / "out" / "kept")), read_dir(str(tmp_path / "out" / "duplicates"))
    quarantined = read_dir(str(tmp_path / "out" / "quarantine"))
    assert stats["reconciles"] and stats["input"] == count_input_records([str(tmp_path / "in")])
    assert stats["input"] == len(kept) + len(duplicates) + len(quarantined)
    kinds = {r["error"].split(":")[0] for r in quarantined}
    assert {"corrupt_compressed_data", "truncated_file", "invalid_unicode", "nested_too_deep"} <= kinds
    assert {canonical for _, canonical in ODD_IDS.values()} <= {r["id"] for r in kept + duplicates}
