"""corpus_tools.shards without Spark: byte-identity with megatron-core's own writer, reading back
through megatron-core's IndexedDataset, EOS placement, and `ziya shards verify` catching each kind
of corruption with a clear message."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from corpus_tools.shards import (
    ShardReader,
    ShardWriter,
    encode_documents,
    token_dtype,
    verify_pack,
)
from corpus_tools.tokenizer import load_tokenizer
from ziya.cli import main as cli_main

TEXTS = {
    "news": ["人民日报 1998 年 1 月 1 日 新年献词。", "今天天气很好，我们去公园散步。", "经济稳定增长。"],
    "docs": ["The quick brown fox jumps over the lazy dog.", "os.path.join(a, b) joins paths.", "", "  \n "],
}


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def megatron_shard(prefix: str, docs: list[np.ndarray], dtype) -> None:
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

    builder = IndexedDatasetBuilder(prefix + ".bin", dtype=dtype)
    for doc in docs:
        builder.add_document(torch.tensor(doc.astype(np.int64)), [len(doc)])
    builder.finalize(prefix + ".idx")


def write_pack(directory: str, tok, texts: dict[str, list[str]] = TEXTS, shard_docs: int = 2) -> dict:
    """A small pack as `ziya pack` lays it out, written without Spark: each source's documents in
    order, `shard_docs` per shard, through ShardWriter and the job's own manifest builder."""
    from pipelines.pack import build_manifest
    from corpus_tools.shards import PackConfig, resolved_config

    resolved = resolved_config(PackConfig(), tok)
    shards, written, per_source = [], {}, {}
    for source, docs in texts.items():
        tokens, lengths = encode_documents(tok, docs)
        per_source[source] = {"documents": len(docs), "empty": int((lengths == 0).sum()), "tokens": int(lengths.sum())}
        ends = np.cumsum(lengths)
        kept = np.flatnonzero(lengths)
        for k, start in enumerate(range(0, len(kept), shard_docs)):
            rows = kept[start:start + shard_docs]
            name = f"{source}-{k:05d}"
            writer = ShardWriter(os.path.join(directory, "shards", name), tok.dtype)
            writer.add_documents(tokens[ends[rows[0]] - lengths[rows[0]]:ends[rows[-1]]], lengths[rows])
            written[name] = writer.close().to_dict()
            shards.append({"source": source, "name": name, "first_id": str(rows[0]),
                           "documents": len(rows), "tokens": int(lengths[rows].sum())})
    manifest = build_manifest(shards, written, per_source, resolved)
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return manifest


# ---------------------------------------------------------------- format

@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_writer_is_byte_identical_to_megatrons_builder(tmp_path, dtype):
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 30000, size=n).astype(dtype) for n in (5, 1, 300, 17)]
    megatron_shard(str(tmp_path / "theirs"), docs, dtype)
    writer = ShardWriter(str(tmp_path / "ours"), dtype)
    writer.add_documents(np.concatenate(docs[:2]), [5, 1])  # streamed in two appends
    writer.add_documents(np.concatenate(docs[2:]), [300, 17])
    info = writer.close()
    for ext in (".bin", ".idx"):
        assert (tmp_path / f"ours{ext}").read_bytes() == (tmp_path / f"theirs{ext}").read_bytes(), ext
    assert (info.documents, info.tokens, info.dtype) == (4, 323, np.dtype(dtype).name)
    assert info.bin_bytes == os.path.getsize(tmp_path / "ours.bin")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_megatron_indexed_dataset_reads_our_shard(tmp_path):
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    docs = [np.arange(n, dtype=np.uint16) + n for n in (3, 8, 1)]
    writer = ShardWriter(str(tmp_path / "s"), np.uint16)
    writer.add_documents(np.concatenate(docs), [3, 8, 1])
    writer.close()
    ds = IndexedDataset(str(tmp_path / "s"))
    assert len(ds) == 3 and ds.document_indices.tolist() == [0, 1, 2, 3]
    assert [ds[i].tolist() for i in range(3)] == [d.tolist() for d in docs]
    reader = ShardReader(str(tmp_path / "s"))
    assert [reader.document(i).tolist() for i in range(3)] == [d.tolist() for d in docs]


def test_token_dtype_is_uint16_below_65536_ids():
    assert token_dtype(32000) == np.uint16 and token_dtype(65535) == np.uint16
    assert token_dtype(65536) == np.int32 and token_dtype(150000) == np.int32


def test_writer_refuses_lengths_that_do_not_add_up(tmp_path):
    writer = ShardWriter(str(tmp_path / "s"), np.uint16)
    with pytest.raises(ValueError, match="add up to 3"):
        writer.add_documents(np.zeros(4, np.uint16), [1, 2])
    writer.abort()


def test_encode_documents_appends_eos_to_each_nonempty_document(tok):
    texts = ["hello world", "", None, " \n ", "你好"]
    tokens, lengths = encode_documents(tok, texts)
    assert lengths.tolist()[1:4] == [0, 0, 0]
    ends = np.cumsum(lengths)
    for text, n, end in zip(texts, lengths, ends):
        if n:
            doc = tokens[end - n:end]
            assert doc[-1] == tok.eos_id and tok.eos_id not in doc[:-1]
            assert doc[:-1].tolist() == tok.encode_batch([text])[0]
    assert len(tokens) == lengths.sum()


# ---------------------------------------------------------------- verification

@pytest.fixture
def pack(tmp_path, tok):
    write_pack(str(tmp_path), tok)
    return tmp_path


def verify(path, capsys) -> tuple[int, str]:
    rc = cli_main(["shards", "verify", str(path)])
    return rc, capsys.readouterr().out


def test_verify_passes_an_intact_pack(pack, capsys):
    rc, out = verify(pack, capsys)
    assert rc == 0, out
    assert "OK: 0 problem(s) over 3 shard(s)" in out


def test_verify_catches_a_flipped_byte_in_bin(pack, capsys):
    path = pack / "shards" / "news-00000.bin"
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    rc, out = verify(pack, capsys)
    assert rc == 1
    assert "FAIL shards/news-00000" in out and "news-00000.bin sha256" in out and "(corrupted)" in out


def test_verify_catches_a_truncated_bin(pack, capsys):
    path = pack / "shards" / "docs-00000.bin"
    path.write_bytes(path.read_bytes()[:-2])
    rc, out = verify(pack, capsys)
    assert rc == 1
    assert "docs-00000.bin is" in out and "manifest says" in out
    assert "but its index describes" in out  # the index/bin size check names the mismatch too


def test_verify_catches_a_truncated_idx(pack, capsys):
    path = pack / "shards" / "news-00001.idx"
    path.write_bytes(path.read_bytes()[:-8])
    rc, out = verify(pack, capsys)
    assert rc == 1
    assert "news-00001.idx is" in out and "truncated or padded" in out


def test_verify_catches_a_missing_shard(pack, capsys):
    os.remove(pack / "shards" / "docs-00000.bin")
    rc, out = verify(pack, capsys)
    assert rc == 1 and "docs-00000.bin is missing" in out


def test_verify_catches_token_ids_outside_the_vocabulary(pack, tok, capsys):
    """A shard whose sizes and hashes all match the manifest but which holds an id >= vocab_size
    (as a pack made with a larger tokenizer and listed under a smaller one would)."""
    prefix = str(pack / "shards" / "news-00000")
    reader = ShardReader(prefix)
    docs = [np.array(reader.document(i)) for i in range(len(reader))]
    docs[1][0] = tok.vocab_size + 5
    del reader
    writer = ShardWriter(prefix, np.uint16)
    writer.add_documents(np.concatenate(docs), [len(d) for d in docs])
    info = writer.close().to_dict()
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["shards"][[s["prefix"] for s in manifest["shards"]].index("shards/news-00000")].update(info)
    (pack / "manifest.json").write_text(json.dumps(manifest))
    rc, out = verify(pack, capsys)
    assert rc == 1
    assert f"1 token ids >= vocab size {tok.vocab_size}" in out and f"id {tok.vocab_size + 5}" in out


def test_verify_catches_an_unlisted_shard_and_wrong_totals(pack, capsys):
    shutil.copy(pack / "shards" / "news-00000.bin", pack / "shards" / "stray-00000.bin")
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["sources"]["news"]["tokens"] += 1
    (pack / "manifest.json").write_text(json.dumps(manifest))
    report = verify_pack(str(pack))
    assert not report.ok
    assert any("stray-00000.bin is not listed" in line for line in report.lines)
    assert any("source news: shards hold" in line for line in report.lines)


def test_verify_without_a_manifest_is_a_clear_error(tmp_path, capsys):
    assert cli_main(["shards", "verify", str(tmp_path)]) == 2
    assert "manifest.json not found" in capsys.readouterr().err
