"""Ziya2-style vocabulary expansion: add Chinese pieces to a LLaMA-2-layout SentencePiece model.

    ziya tokenizer expand --input out/clean --vocab-size 8000 --output out/zh_expanded.model

1. Read the input (a stage's output directory, i.e. its kept/ Parquet, or JSONL/Parquet files) and
   take the documents whose `lang` is `zh`. A deterministic hash of each document's id holds a share
   of them apart (`heldout_fraction`): those are never trained on and measure the result, together
   with held-apart documents of `eval_lang` (English).
2. Train a SentencePiece **BPE** model of `vocab_size` pieces on the training documents' lines.
   BPE, not unigram, because the base (LLaMA-2's) is BPE and SentencePiece's BPE encoder builds a
   piece only by merging two adjacent pieces of the vocabulary. A BPE trainer's pieces are closed
   under that (each is the merge of two earlier ones), so every added piece can really be produced;
   unigram pieces carry no such guarantee, and their log-probability scores mean nothing to a BPE
   encoder. Normalization matches the base (identity, no whitespace folding, digits split).
3. Keep the trained pieces the base lacks that contain a character of the language's script
   (Han, CJK punctuation, full-width forms for zh), so English text never meets a new piece, and
   that the BPE encoder can reach; append them **after** every base piece. Every base id, piece,
   score and type is untouched.
4. Scores: SentencePiece's BPE encoder merges the adjacent pair whose result has the highest score
   first; a BPE model's scores are its merge order (LLaMA-2: -rank). New pieces continue that order
   below the base's last merge, in the order the Chinese trainer learned them: base merges keep
   priority, so text without new pieces encodes exactly as before, and Chinese merges apply in the
   order of their frequency in Chinese text.
5. Write the model and `<model>.expansion.json`: for each new piece its id and its base-tokenizer
   ids. Those are the base encoding of the piece's own characters with "▁" read as a space and the
   base's dummy-prefix switched off (the piece is a fragment of a text, not a text of its own), so
   no extra "▁" is prepended and byte fallback covers characters the base lacks; decoding them with
   the same settings gives back exactly the piece's text. The trainer initializes each new
   embedding row as the mean of the rows of those ids.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import pyarrow.parquet as pq
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_model

from corpus_tools import storage
from corpus_tools.readers import InputConfig, list_input_files, plan_splits, read_split
from corpus_tools.tokenizer import Tokenizer, TokenizerError, load_tokenizer

NORMAL = sp_model.ModelProto.SentencePiece.NORMAL
# Characters that make a piece belong to a language's script; other languages: any non-ASCII.
# zh: Han (URO, extension A, compatibility, extensions B-G), radicals, bopomofo, CJK punctuation
# and full-width punctuation, but not full-width letters and digits: those are Latin text.
SCRIPT_CHARS = {
    "zh": re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff"
                     "\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
                     "\U00020000-\U0003134f]"),
}
NON_ASCII = re.compile(r"[^\x00-\x7f\u2581]")
# BPE bases mark pieces that must never merge first (LLaMA-2's whitespace runs) with -1e9; new
# pieces go below the real merge order, not below those markers (float32 scores lose integer
# precision there).
NEVER_MERGE_SCORE = -1e8
FLOAT32_EXACT = float(1 << 24)
MAX_LINE_BYTES = 8192  # SentencePiece skips longer training sentences; we cut them at sentence ends
SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


class ExpansionError(ValueError):
    """Input or settings that cannot give an expansion (no documents of the language, ...)."""


@dataclass(frozen=True)
class ExpandConfig:
    """How `ziya tokenizer expand` trains and appends pieces."""

    vocab_size: int = 8000  # pieces of the Chinese BPE model trained; those the base lacks are added
    lang: str = "zh"  # documents whose `lang_field` equals this are trained on
    text_field: str = "text"
    lang_field: str = "lang"  # a kept/ column (`ziya clean` adds it) or a JSONL record field
    eval_lang: str = "en"  # the other language whose chars/token must not get worse
    heldout_fraction: float = 0.1  # of the documents (by id hash) never trained on, for measuring
    eval_max_chars: int = 2_000_000  # per language: held-apart text kept for measuring (bounded memory)
    # Chinese-LLaMA and SentencePiece's advice for CJK: rarer characters fall back to bytes.
    character_coverage: float = 0.9995
    max_piece_length: int = 16  # LLaMA-2's max_sentencepiece_length
    input_sentence_size: int = 2_000_000  # lines SentencePiece samples (bounded memory on big inputs)
    num_threads: int = 0  # 0: one per core
    seed: int = 0

    def __post_init__(self) -> None:
        if self.vocab_size < 100:
            raise ValueError(f"vocab_size must be at least 100, got {self.vocab_size}")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in (0, 1), got {self.heldout_fraction}")


# ---------------------------------------------------------------- reading documents

@dataclass
class Corpus:
    """What the input held: counts that add up, and the held-apart texts that measure the result."""

    documents: int = 0
    quarantined: int = 0
    by_lang: dict[str, int] = field(default_factory=dict)
    empty_documents: int = 0  # of the trained and measured languages: nothing to train on or measure
    train_documents: int = 0
    train_chars: int = 0
    heldout: dict[str, list[str]] = field(default_factory=dict)  # lang -> held-apart texts (capped)
    heldout_documents: dict[str, int] = field(default_factory=dict)  # lang -> all held-apart documents
    heldout_kept_chars: dict[str, int] = field(default_factory=dict)  # lang -> characters in `heldout`

    def heldout_chars(self, lang: str) -> int:
        return self.heldout_kept_chars.get(lang, 0)

    def hold_apart(self, lang: str, text: str, max_chars: int) -> None:
        self.heldout_documents[lang] = self.heldout_documents.get(lang, 0) + 1
        if self.heldout_chars(lang) < max_chars:
            self.heldout.setdefault(lang, []).append(text)
            self.heldout_kept_chars[lang] = self.heldout_chars(lang) + len(text)


def iter_documents(paths: list[str], cfg: ExpandConfig, corpus: Corpus) -> Iterator[tuple[str, str, str | None]]:
    """(id, text, lang) of every document; counts documents and quarantined records in `corpus`.

    Parquet with the text and language columns (a stage's kept/) is read column-wise; anything else
    goes through corpus_tools.readers, where the language is a field of the record (in `meta`)."""
    for split in plan_splits(storage.stage_inputs(paths)):
        if split.fmt == "parquet" and {"id", cfg.text_field, cfg.lang_field} <= set(storage.parquet_schema(split.path).names):
            yield from _parquet_documents(split.path, split.start, split.end, cfg, corpus)
        else:
            yield from _parsed_documents(split, cfg, corpus)


def _parquet_documents(path: str, start: int, end: int, cfg: ExpandConfig, corpus: Corpus):
    pf = storage.parquet_file(path)
    groups = list(range(start, end if end >= 0 else pf.num_row_groups))
    for batch in pf.iter_batches(columns=["id", cfg.text_field, cfg.lang_field], row_groups=groups, batch_size=4096):
        ids, texts, langs = (batch.column(i).to_pylist() for i in range(3))
        corpus.documents += len(ids)
        yield from zip(ids, texts, langs)


def _parsed_documents(split, cfg: ExpandConfig, corpus: Corpus):
    for batch in read_split(split, InputConfig(text_field=cfg.text_field)):
        corpus.quarantined += batch.quarantine.num_rows
        docs = batch.documents
        corpus.documents += docs.num_rows
        metas = docs.column("meta").to_pylist()
        langs = [json.loads(m).get(cfg.lang_field) if m else None for m in metas]
        yield from zip(docs.column("id").to_pylist(), docs.column("text").to_pylist(), langs)


def is_held_apart(doc_id: str, fraction: float) -> bool:
    """Deterministic, order- and partition-independent: a hash of the id below `fraction`.

    >>> is_held_apart("doc-1", 0.5) == is_held_apart("doc-1", 0.5)
    True
    """
    h = int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")
    return h < fraction * (1 << 64)


def training_texts(docs: Iterable[tuple[str, str, str | None]], cfg: ExpandConfig, corpus: Corpus) -> Iterator[str]:
    """Texts of the training documents of `cfg.lang`; held-apart documents of `cfg.lang` and
    `cfg.eval_lang` go to `corpus.heldout` (up to `eval_max_chars` each) instead."""
    measured = {cfg.lang, cfg.eval_lang}
    for doc_id, text, lang in docs:
        lang = lang or "unknown"
        corpus.by_lang[lang] = corpus.by_lang.get(lang, 0) + 1
        if lang not in measured:
            continue
        if not text:
            corpus.empty_documents += 1
            continue
        if is_held_apart(doc_id, cfg.heldout_fraction):
            corpus.hold_apart(lang, text, cfg.eval_max_chars)
        elif lang == cfg.lang:
            corpus.train_documents += 1
            corpus.train_chars += len(text)
            yield text


def sentence_lines(texts: Iterable[str]) -> Iterator[str]:
    """Training sentences: the non-blank lines of each text, long lines cut at sentence ends.

    Lines, not whole documents: SentencePiece skips sentences over max_sentence_length, and a
    newline inside a sentence would become a piece the base encodes as a byte.

    >>> list(sentence_lines(["第一行。\\n\\n第二行。"]))
    ['第一行。', '第二行。']
    """
    for text in texts:
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            if len(line.encode("utf-8")) <= MAX_LINE_BYTES:
                yield line
            else:
                yield from _cut_long_line(line)


def _cut_long_line(line: str) -> Iterator[str]:
    chunk = ""
    for sentence in SENTENCE_END.split(line):
        if chunk and len((chunk + sentence).encode("utf-8")) > MAX_LINE_BYTES:
            yield chunk
            chunk = ""
        chunk += sentence
        while len(chunk.encode("utf-8")) > MAX_LINE_BYTES:  # no sentence end for a long stretch
            cut = MAX_LINE_BYTES // 4  # characters; at most 4 UTF-8 bytes each
            yield chunk[:cut]
            chunk = chunk[cut:]
    if chunk:
        yield chunk


# ---------------------------------------------------------------- training and merging

def train_bpe(lines: Iterator[str], cfg: ExpandConfig) -> sp_model.ModelProto:
    """A SentencePiece BPE model of `cfg.vocab_size` pieces, normalizing as LLaMA-2 does."""
    spm.set_random_generator_seed(cfg.seed)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=lines, model_writer=out, model_type="bpe", vocab_size=cfg.vocab_size,
        character_coverage=cfg.character_coverage, max_sentencepiece_length=cfg.max_piece_length,
        # as the base: no normalization, spaces kept as they are, digits one piece each
        normalization_rule_name="identity", remove_extra_whitespaces=False, split_digits=True,
        # The base adds "▁" once per document; the trainer sees lines, and a per-line prefix would
        # spend pieces on "▁word" twins of line-initial words.
        add_dummy_prefix=False, allow_whitespace_only_pieces=False, byte_fallback=False,
        input_sentence_size=cfg.input_sentence_size, shuffle_input_sentence=True,
        max_sentence_length=MAX_LINE_BYTES, num_threads=_threads(cfg.num_threads), minloglevel=2,
    )
    proto = sp_model.ModelProto()
    proto.ParseFromString(out.getvalue())
    return proto


def _threads(n: int) -> int:
    return n if n > 0 else (os.cpu_count() or 1)


@dataclass
class Selection:
    """The trained pieces to add, in the order the trainer learned them, and why others were not."""

    pieces: list[str]
    in_base: int = 0
    not_in_script: int = 0
    unreachable: int = 0


def select_new_pieces(trained: sp_model.ModelProto, base_pieces: set[str], lang: str) -> Selection:
    """Normal trained pieces that the base lacks, that contain a character of `lang`'s script, and
    that the BPE encoder can build from the vocabulary they join."""
    script = SCRIPT_CHARS.get(lang, NON_ASCII)
    sel = Selection(pieces=[])
    candidates = []
    for p in trained.pieces:
        if p.type != NORMAL:
            continue
        if p.piece in base_pieces:
            sel.in_base += 1
        elif not script.search(p.piece) or "\ufffd" in p.piece:
            sel.not_in_script += 1
        else:
            candidates.append(p.piece)
    reachable = reachable_pieces(candidates, base_pieces)
    sel.pieces = [p for p in candidates if p in reachable]
    sel.unreachable = len(candidates) - len(sel.pieces)
    return sel


def reachable_pieces(pieces: list[str], base_pieces: set[str]) -> set[str]:
    """The pieces a BPE encoder can produce: single characters (its starting symbols), and pieces
    that split into two producible pieces of the vocabulary (base + `pieces`).

    >>> sorted(reachable_pieces(["中国", "中国人", "国人民"], {"中", "国", "人"}))
    ['中国', '中国人']
    """
    vocab = base_pieces | set(pieces)
    known: set[str] = set()

    def producible(s: str) -> bool:
        return len(s) == 1 or s in known

    for piece in sorted(vocab, key=len):  # the halves of a piece are shorter: decided before it
        if len(piece) == 1 or any(producible(piece[:i]) and producible(piece[i:]) for i in range(1, len(piece))):
            known.add(piece)
    return {p for p in pieces if p in known}


def merge_floor(base: sp_model.ModelProto) -> float:
    """The lowest real merge score of the base: new pieces are scored below it."""
    scores = [p.score for p in base.pieces if p.type == NORMAL and p.score > NEVER_MERGE_SCORE]
    return min(scores, default=0.0)


def check_expandable(base: sp_model.ModelProto) -> None:
    model_type = sp_model.TrainerSpec.ModelType.Name(base.trainer_spec.model_type)
    if model_type != "BPE":
        raise ExpansionError(f"only BPE base models can be expanded (LLaMA-2's is BPE), this one is {model_type}: "
                             "a unigram model's scores are log-probabilities, not a merge order")


def append_pieces(base: sp_model.ModelProto, pieces: list[str]) -> sp_model.ModelProto:
    """A copy of `base` with `pieces` appended as normal pieces, scored below every base merge in
    the given order; nothing of the base changes but trainer_spec.vocab_size."""
    check_expandable(base)
    floor = merge_floor(base)
    if floor - len(pieces) - 1 < -FLOAT32_EXACT:
        raise ExpansionError(f"scores below {floor} for {len(pieces)} pieces would lose float32 precision")
    expanded = sp_model.ModelProto()
    expanded.CopyFrom(base)
    for rank, piece in enumerate(pieces, start=1):
        expanded.pieces.add(piece=piece, score=floor - rank, type=NORMAL)
    expanded.trainer_spec.vocab_size = len(expanded.pieces)
    return expanded


def fragment_processor(proto: sp_model.ModelProto) -> spm.SentencePieceProcessor:
    """The model with its dummy prefix switched off: encodes a piece's text as a fragment."""
    fragment = sp_model.ModelProto()
    fragment.CopyFrom(proto)
    fragment.normalizer_spec.add_dummy_prefix = False
    return spm.SentencePieceProcessor(model_proto=fragment.SerializeToString())


def piece_text(piece: str) -> str:
    """The text a piece stands for: SentencePiece writes spaces as "▁"."""
    return piece.replace("\u2581", " ")


def base_decompositions(base: sp_model.ModelProto, pieces: list[str]) -> list[list[int]]:
    """Base-tokenizer ids of each piece's text, encoded as a fragment (see the module docstring)."""
    return fragment_processor(base).encode([piece_text(p) for p in pieces])


# ---------------------------------------------------------------- the command

@dataclass
class ExpansionResult:
    base: Tokenizer
    expanded: Tokenizer
    corpus: Corpus
    selection: Selection
    trained_pieces: int
    train_seconds: float
    chars_per_token: dict[str, tuple[float, float]]  # lang -> (base, expanded), held-apart text


def expand(base_path: str | None, inputs: list[str], output: str, cfg: ExpandConfig = ExpandConfig(),
           overwrite: bool = False) -> ExpansionResult:
    """Train, append, write `output` and `output.expansion.json`, and measure; see the module docstring."""
    base = load_tokenizer(base_path)
    check_expandable(base.model_proto())
    meta_path = output + ".expansion.json"
    for path in (output, meta_path):
        if os.path.exists(path) and not overwrite:
            raise ExpansionError(f"{path} exists (pass --overwrite to replace it)")
    list_input_files(storage.stage_inputs(inputs))  # a wrong path fails before reading anything
    corpus = Corpus()
    texts = training_texts(iter_documents(inputs, cfg, corpus), cfg, corpus)
    started = time.perf_counter()
    trained = _train_or_explain(sentence_lines(texts), cfg, corpus, inputs)
    train_seconds = time.perf_counter() - started

    base_proto = base.model_proto()
    selection = select_new_pieces(trained, {p.piece for p in base_proto.pieces}, cfg.lang)
    if not selection.pieces:
        raise ExpansionError(f"the {cfg.lang} model of {cfg.vocab_size} pieces has no piece the base lacks "
                             f"({selection.in_base} already in the base); raise --vocab-size")
    expanded_proto = append_pieces(base_proto, selection.pieces)
    decompositions = base_decompositions(base_proto, selection.pieces)
    storage.write_atomically(output, expanded_proto.SerializeToString())
    expanded = load_tokenizer(output)
    storage.write_atomically(meta_path, json.dumps(expansion_record(base, expanded, selection.pieces, decompositions),
                                        ensure_ascii=False, indent=1).encode("utf-8"))
    measures = {lang: (base.chars_per_token(texts), expanded.chars_per_token(texts))
                for lang, texts in sorted(corpus.heldout.items()) if texts}
    return ExpansionResult(base, expanded, corpus, selection, sum(p.type == NORMAL for p in trained.pieces),
                           train_seconds, measures)


def _train_or_explain(lines: Iterator[str], cfg: ExpandConfig, corpus: Corpus, inputs: list[str]) -> sp_model.ModelProto:
    try:
        trained = train_bpe(lines, cfg)
    except RuntimeError as exc:
        if corpus.train_documents == 0:
            raise _no_documents(cfg, corpus, inputs) from None
        raise ExpansionError(f"SentencePiece could not train a {cfg.vocab_size}-piece model on "
                             f"{corpus.train_documents:,} {cfg.lang} documents ({corpus.train_chars:,} characters): "
                             f"{str(exc).strip().splitlines()[-1]}") from None
    if corpus.train_documents == 0:
        raise _no_documents(cfg, corpus, inputs)
    return trained


def _no_documents(cfg: ExpandConfig, corpus: Corpus, inputs: list[str]) -> ExpansionError:
    langs = ", ".join(f"{k}: {v:,}" for k, v in sorted(corpus.by_lang.items(), key=lambda kv: -kv[1])) or "none"
    return ExpansionError(
        f"no {cfg.lang} documents to train on in {', '.join(inputs)} ({corpus.documents:,} documents read, "
        f"{corpus.quarantined:,} quarantined; by {cfg.lang_field}: {langs}). The language comes from the "
        f"'{cfg.lang_field}' column of a stage's kept/ (`ziya clean` adds it) or a field of each JSONL record.")


def expansion_record(base: Tokenizer, expanded: Tokenizer, pieces: list[str], decompositions: list[list[int]]) -> dict:
    """`<model>.expansion.json`: what the trainer needs to initialize the new embedding rows."""
    return {
        "base_model": os.path.abspath(base.path), "base_model_sha256": base.sha256,
        "base_vocab_size": base.vocab_size, "vocab_size": expanded.vocab_size, "model_sha256": expanded.sha256,
        "new_pieces": [{"id": base.vocab_size + k, "piece": piece, "base_ids": ids}
                       for k, (piece, ids) in enumerate(zip(pieces, decompositions))],
    }


def format_report(result: ExpansionResult, cfg: ExpandConfig, output: str) -> str:
    c, s = result.corpus, result.selection
    heldout = ", ".join(f"{lang}: {n:,}" for lang, n in sorted(c.heldout_documents.items())) or "none"
    lines = [
        f"read {c.documents:,} documents ({c.quarantined:,} quarantined records); {cfg.lang}: "
        f"{c.by_lang.get(cfg.lang, 0):,}, trained on {c.train_documents:,} ({c.train_chars:,} characters); "
        f"held apart: {heldout}; empty: {c.empty_documents:,}",
        f"trained a BPE model of {result.trained_pieces:,} pieces in {result.train_seconds:.1f} s; added "
        f"{len(s.pieces):,} (not added: {s.in_base:,} already in the base, {s.not_in_script:,} without a "
        f"{cfg.lang} character, {s.unreachable:,} unreachable by BPE merges)",
        f"vocabulary {result.base.vocab_size:,} -> {result.expanded.vocab_size:,}",
        f"{'held-apart text':<28}{'chars':>10}{'base':>8}{'expanded':>10}{'tokens':>9}",
    ]
    for lang, (before, after) in result.chars_per_token.items():
        chars = c.heldout_chars(lang)
        lines.append(f"{lang + ' chars/token':<28}{chars:>10,}{before:>8.3f}{after:>10.3f}{before / after - 1:>+9.1%}")
    for lang in sorted({cfg.lang, cfg.eval_lang} - set(result.chars_per_token)):
        lines.append(f"{lang + ' chars/token':<28}{'no held-apart ' + lang + ' documents in the input':>37}")
    lines.append(f"wrote {output} (sha256 {result.expanded.sha256[:16]}...) and {output}.expansion.json")
    return "\n".join(lines)


__all__ = ["ExpandConfig", "ExpansionError", "TokenizerError", "expand", "format_report"]
