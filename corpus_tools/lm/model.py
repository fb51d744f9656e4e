"""Reference language models: train one from text, score documents with it.

    ziya kenlm train --lang zh --input ref/zh.jsonl --output models/kenlm/zh [--order 5]

A model is four files sharing a prefix (`models/kenlm/zh`):
    zh.sp.model   SentencePiece unigram tokenizer trained on the same reference text (as CCNet)
    zh.arpa       the modified Kneser-Ney n-gram model over its pieces (corpus_tools.lm.kneser_ney)
    zh.binary     the same model in KenLM's binary format, when a `build_binary` executable is found
    zh.json       what it is: language, order, normalization, sizes, discounts, training inputs

Text goes through `lm_normalize` (lowercase, digits folded to 0, whitespace collapsed, as CCNet)
and the tokenizer in the same way at training and at scoring time; each line (paragraph) is one
sentence with its own <s> ... </s>.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from collections.abc import Iterator

from corpus_tools.lm.kneser_ney import NgramCounter, estimate, write_arpa

_DIGITS = re.compile(r"\d")
# Collapses every run of whitespace other than newlines to one space. A run that is already one
# plain space is left alone rather than replaced by itself: the same result, with far fewer
# matches in English text (the whitespace pass took 40% less time on benchmarks/bench_score.py's
# corpus); tests/test_perplexity.py checks it against the plain `[^\S\n]+` form.
_SPACES = re.compile(r"(?: [^\S\n]|[^\S\n ])[^\S\n]*")
MODEL_SUFFIXES = (".binary", ".arpa", ".json", ".sp.model")


class ModelError(ValueError):
    """A model directory or file that cannot be used (missing, corrupt, wrong kind)."""


def lm_normalize(text: str) -> str:
    """CCNet's normalization before tokenizing: case and digits carry little signal for
    perplexity and would split the vocabulary."""
    return _SPACES.sub(" ", _DIGITS.sub("0", text.lower()))


def paragraphs(text: str) -> list[str]:
    """Non-empty normalized lines of a document: the sentences the model scores."""
    return [stripped for line in lm_normalize(text).split("\n") if (stripped := line.strip())]


def model_prefix(path: str) -> str:
    for suffix in MODEL_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


# ---------------------------------------------------------------- reading reference text

def reference_texts(inputs: list[str], text_field: str = "text") -> Iterator[str]:
    """Texts of the reference inputs: each line of `.txt`(.gz) files, or each document of
    JSONL/Parquet inputs read as `ziya clean` reads them (unparseable records are skipped and
    counted on stderr)."""
    from corpus_tools.readers import InputConfig, list_input_files, plan_splits, read_split

    text_files = [p for p in inputs if p.endswith((".txt", ".txt.gz"))]
    for path in text_files:
        yield from _text_file_lines(path)
    others = [p for p in inputs if p not in text_files]
    if not others:
        return
    list_input_files(others)  # a clear error for a wrong path
    bad = 0
    for split in plan_splits(others):
        for batch in read_split(split, InputConfig(text_field=text_field, id_field=None)):
            bad += batch.quarantine.num_rows
            yield from (t for t in batch.documents.column("text").to_pylist() if t)
    if bad:
        print(f"[kenlm] skipped {bad} unparseable input records", file=sys.stderr)


def _text_file_lines(path: str) -> Iterator[str]:
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                yield line


# ---------------------------------------------------------------- training

@dataclasses.dataclass
class TrainConfig:
    lang: str
    order: int = 5
    vocab_size: int = 16000  # a soft limit: SentencePiece takes fewer pieces on a small corpus
    character_coverage: float | None = None  # default: 0.9995 for CJK languages (as SentencePiece advises), else 1.0
    max_sentences_for_tokenizer: int = 300_000


def train_tokenizer(lines: list[str], prefix: str, cfg: TrainConfig) -> None:
    import sentencepiece as spm

    coverage = cfg.character_coverage or (0.9995 if cfg.lang in ("zh", "ja", "ko") else 1.0)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=f"{prefix}.sp", vocab_size=cfg.vocab_size,
        model_type="unigram", character_coverage=coverage, hard_vocab_limit=False,
        input_sentence_size=cfg.max_sentences_for_tokenizer, shuffle_input_sentence=True,
        num_threads=max(1, os.cpu_count() or 1), minloglevel=2, seed_sentencepiece_size=200_000)
    os.remove(f"{prefix}.sp.vocab")


def train(inputs: list[str], output: str, cfg: TrainConfig, text_field: str = "text") -> dict:
    """Tokenizer, ARPA (and binary) model and metadata at `output` (a prefix); the metadata."""
    prefix = model_prefix(output)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    started = time.perf_counter()
    lines = [p for doc in reference_texts(inputs, text_field) for p in paragraphs(doc)]
    if not lines:
        raise ModelError(f"no reference text in {inputs}")
    seconds = {}
    t = time.perf_counter()
    train_tokenizer(lines, prefix, cfg)
    seconds["tokenizer"] = time.perf_counter() - t
    tokenizer = load_tokenizer(f"{prefix}.sp.model")
    t = time.perf_counter()
    counter = NgramCounter(cfg.order)
    for start in range(0, len(lines), 10_000):
        counter.add(tokenizer.encode(lines[start:start + 10_000], out_type=str))
    seconds["count"] = time.perf_counter() - t
    t = time.perf_counter()
    model = estimate(counter)
    write_arpa(model, f"{prefix}.arpa")
    seconds["estimate"] = time.perf_counter() - t
    binary = build_binary(f"{prefix}.arpa", f"{prefix}.binary")
    meta = {
        "lang": cfg.lang, "order": cfg.order, "normalization": "lowercase, digits->0, whitespace collapsed",
        "tokenizer": os.path.basename(f"{prefix}.sp.model"), "vocab_pieces": tokenizer.get_piece_size(),
        "arpa": os.path.basename(f"{prefix}.arpa"), "binary": os.path.basename(binary) if binary else None,
        "sentences": model.sentences, "tokens": model.tokens,
        "ngrams": [len(g) for g in model.grams],
        "discounts": [[d.d1, d.d2, d.d3] for d in model.discounts],
        "discount_fallback": [n + 1 for n, d in enumerate(model.discounts) if d.fallback],
        "inputs": inputs, "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "total_seconds": round(time.perf_counter() - started, 2),
    }
    with open(f"{prefix}.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
    return meta


def find_build_binary() -> str | None:
    """KenLM's `build_binary`: $KENLM_BIN, then .tools/kenlm/bin (scripts/build_lmplz.sh), then PATH."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for folder in (os.environ.get("KENLM_BIN"), os.path.join(here, ".tools", "kenlm", "bin")):
        if folder and os.access(os.path.join(folder, "build_binary"), os.X_OK):
            return os.path.join(folder, "build_binary")
    return shutil.which("build_binary")


def build_binary(arpa: str, binary: str) -> str | None:
    """The binary model (loads in milliseconds instead of parsing the ARPA), when possible."""
    exe = find_build_binary()
    if exe is None:
        return None
    subprocess.run([exe, "-S", "10%", arpa, binary], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return binary


# ---------------------------------------------------------------- scoring

def load_tokenizer(path: str):
    import sentencepiece as spm

    if not os.path.exists(path):
        raise ModelError(f"tokenizer not found: {path}")
    try:
        return spm.SentencePieceProcessor(model_file=path)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"cannot load tokenizer {path}: {exc}") from exc


def available_models(models_dir: str) -> dict[str, str]:
    """{language: model prefix} of the models in a directory (one `<lang>.json` each)."""
    if not os.path.isdir(models_dir):
        raise ModelError(f"models directory not found: {models_dir}")
    return {name[:-5]: os.path.join(models_dir, name[:-5])
            for name in sorted(os.listdir(models_dir)) if name.endswith(".json")}


@contextmanager
def _quiet_stderr():
    """KenLM draws a progress bar on file descriptor 2 while it reads an ARPA file (a fresh clone
    has no `build_binary`), once per Python worker: keep it out of the job's output. Errors still
    surface as the exception `kenlm.Model` raises."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class LanguageModel:
    """A reference model ready to score text: tokenizer + KenLM query model."""

    def __init__(self, prefix: str):
        import kenlm

        prefix = model_prefix(prefix)
        meta_path = f"{prefix}.json"
        try:
            with open(meta_path, encoding="utf-8") as f:
                self.meta = json.load(f)
        except FileNotFoundError as exc:
            raise ModelError(f"model metadata not found: {meta_path}") from exc
        except ValueError as exc:
            raise ModelError(f"corrupt model metadata {meta_path}: {exc}") from exc
        folder = os.path.dirname(prefix)
        self.tokenizer = load_tokenizer(os.path.join(folder, self.meta["tokenizer"]))
        path = os.path.join(folder, self.meta["binary"] or self.meta["arpa"])
        if self.meta["binary"] and not os.path.exists(path):
            path = os.path.join(folder, self.meta["arpa"])
        if not os.path.exists(path):
            raise ModelError(f"language model not found: {path}")
        try:
            with _quiet_stderr():
                self.kenlm = kenlm.Model(path)
        except Exception as exc:  # kenlm raises OSError or its own exception types
            raise ModelError(f"cannot load language model {path}: {exc}") from exc
        self.path = path

    def tokenize(self, lines: list[str]) -> list[str]:
        """Space-joined pieces of each normalized line. One thread: a Spark worker already has a
        core of its own, and SentencePiece's batch call otherwise starts a thread pool per call."""
        return [" ".join(pieces) for pieces in self.tokenizer.encode(lines, out_type=str, num_threads=1)]

    def score_tokenized(self, tokenized: list[str]) -> tuple[list[float], list[int]]:
        """(log10 probability, scored tokens incl. </s>) of each tokenized sentence."""
        score = self.kenlm.score
        return [score(t, bos=True, eos=True) for t in tokenized], [t.count(" ") + 2 if t else 1 for t in tokenized]

    def perplexities(self, text: str) -> tuple[float | None, float | None]:
        """(ppl, ppl_para) of a document; (None, None) when it has no text to score.

        ppl: the document as one sequence (its lines joined), 10^(-log10 P / tokens).
        ppl_para: CCNet's form: each line scored as a sentence of its own, the log10
        probabilities summed and divided by the summed lengths: a length-weighted mean of
        the paragraphs' log perplexities."""
        return self.perplexities_batch([text])[0]

    def perplexities_batch(self, texts: list[str]) -> list[tuple[float | None, float | None]]:
        """`perplexities` of each text, with the lines of all of them tokenized in one call (the
        pieces of a line do not depend on its neighbours, so the results are the same)."""
        lines = [paragraphs(text) for text in texts]
        tokenized = self.tokenize([line for doc in lines for line in doc])
        out: list[tuple[float | None, float | None]] = []
        start = 0
        for doc in lines:
            if not doc:
                out.append((None, None))
                continue
            pieces = tokenized[start:start + len(doc)]
            start += len(doc)
            # Each normalized line starts a new word, so the pieces of the joined lines are the
            # lines' pieces joined: tokenize once, score both ways.
            logs, lengths = self.score_tokenized(pieces + [" ".join(pieces)])
            out.append((10.0 ** (-logs[-1] / lengths[-1]), 10.0 ** (-sum(logs[:-1]) / sum(lengths[:-1]))))
        return out


@functools.lru_cache(maxsize=16)
def cached_model(prefix: str) -> LanguageModel:
    """One loaded model per path per process: a Spark executor's Python worker loads each model
    once and keeps it for every batch and task it runs."""
    return LanguageModel(prefix)
