"""Interpolated modified Kneser-Ney n-gram estimation, as KenLM's `lmplz` does it, written as ARPA.

    counts = NgramCounter(order=5); counts.add(sentences)   # token lists, streamed in chunks
    model = estimate(counts)                                  # adjusted counts -> discounts -> probabilities
    write_arpa(model, "zh.arpa")                              # kenlm.Model("zh.arpa") loads it

The steps follow Heafield et al. 2013 ("Scalable Modified Kneser-Ney Language Model Estimation")
and lmplz's source (lm/builder/{corpus_count,adjust_counts,initial_probabilities,interpolate}.cc):

1. Counting: each sentence is padded with order-1 `<s>` and one `</s>`; every window of `order`
   tokens ending on a real token or `</s>` is counted.
2. Adjusted counts: a highest-order n-gram keeps its raw count. An n-gram that starts with `<s>`
   (the padding collapsed to one `<s>`) also keeps its raw count: nothing can precede it. Any other
   lower-order n-gram counts the distinct words seen to its left (continuation counts).
3. Discounts per order from the counts of adjusted counts 1-4 (Chen & Goodman eq. 26):
   Y = n1 / (n1 + 2 n2), D_k = k - (k + 1) Y n_{k+1} / n_k for k = 1, 2, 3+. lmplz stops when they
   cannot be computed unless --discount_fallback; here the fallback (0.5, 1, 1.5) is used and reported.
4. Per context: u(w | c) = (a(c w) - D(a(c w))) / sum_x a(c x), and the interpolation weight
   gamma(c) = sum_k D_k N_k(c .) / sum_x a(c x).
5. Interpolation from unigrams up: p(w | c) = u(w | c) + gamma(c) p(w | c'), the unigrams with the
   uniform distribution over the vocabulary (with `<unk>`, without `<s>`). `<unk>` gets only the
   interpolated mass, `<s>` probability 1 (it is never predicted). ARPA stores log10 p and, for
   every n-gram that is a context, log10 gamma as its backoff.

Memory: counting folds chunks of sentences into one table of distinct n-grams, so the corpus is
never held whole; estimation holds the distinct n-grams of every order (the size of the model).
Tables are pandas frames of word ids, one int32 column per position, so every step is vectorized.
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable

import numpy as np
import pandas as pd

UNK, BOS, EOS = 0, 1, 2
SPECIAL_WORDS = ("<unk>", "<s>", "</s>")
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz's --discount_fallback default


class Vocabulary:
    """Words <-> int32 ids; 0, 1, 2 are <unk>, <s>, </s> (lmplz's numbering)."""

    def __init__(self):
        self.words: list[str] = list(SPECIAL_WORDS)
        self.ids: dict[str, int] = {w: i for i, w in enumerate(self.words)}

    def encode(self, tokens: list[str]) -> list[int]:
        ids = self.ids
        out = []
        for token in tokens:
            i = ids.get(token)
            if i is None:
                i = ids[token] = len(self.words)
                self.words.append(token)
            elif i <= EOS:
                raise ValueError(f"the training text contains the reserved token {token!r}")
            out.append(i)
        return out

    def __len__(self) -> int:
        return len(self.words)


def gram_columns(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


class NgramCounter:
    """Raw counts of padded highest-order n-grams, folded chunk by chunk into one table."""

    def __init__(self, order: int = 5, chunk_tokens: int = 2_000_000):
        if order < 2:
            raise ValueError("order must be >= 2")
        self.order = order
        self.chunk_tokens = chunk_tokens
        self.vocab = Vocabulary()
        self.counts: pd.DataFrame | None = None  # w0..w{N-1}, c
        self.sentences = 0
        self.tokens = 0
        self._buffer: list[np.ndarray] = []
        self._buffered = 0

    def add(self, sentences: Iterable[list[str]]) -> None:
        pad = [BOS] * (self.order - 1)
        for tokens in sentences:
            ids = self.vocab.encode(tokens)
            self._buffer.append(np.array(pad + ids + [EOS], dtype=np.int32))
            self._buffered += len(ids) + 1
            self.sentences += 1
            self.tokens += len(ids)
            if self._buffered >= self.chunk_tokens:
                self._fold()

    def _fold(self) -> None:
        if not self._buffer:
            return
        stream = np.concatenate(self._buffer)
        self._buffer, self._buffered = [], 0
        windows = np.lib.stride_tricks.sliding_window_view(stream, self.order)
        # A window ending on a padding <s> would cross into the previous sentence; every other
        # window lies inside its own padded sentence.
        windows = windows[windows[:, -1] != BOS]
        chunk = pd.DataFrame(windows, columns=gram_columns(self.order)).assign(c=np.int64(1))
        frames = [chunk] if self.counts is None else [self.counts, chunk]
        self.counts = _sum_counts(pd.concat(frames, ignore_index=True), gram_columns(self.order))

    def finish(self) -> pd.DataFrame:
        self._fold()
        if self.counts is None:
            raise ValueError("no training text")
        return self.counts


def _sum_counts(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, sort=False, as_index=False)["c"].sum()


# ---------------------------------------------------------------- adjusted counts

def adjusted_counts(full: pd.DataFrame, order: int) -> list[pd.DataFrame]:
    """Per order n = 1..N, a frame w0..w{n-1}, a (adjusted count), as lmplz's AdjustCounts."""
    cols = gram_columns(order)
    words = full[cols].to_numpy()
    # Position of the last <s> in each padded n-gram (-1: none): the n-gram from there on is the
    # sentence-start n-gram it stands for, with its raw count.
    is_bos = words == BOS
    last_bos = np.where(is_bos.any(axis=1), order - 1 - np.argmax(is_bos[:, ::-1], axis=1), -1)
    by_order: list[pd.DataFrame] = [None] * (order + 1)  # type: ignore[list-item]
    top = full[last_bos <= 0]
    by_order[order] = top.rename(columns={"c": "a"})
    for n in range(order - 1, 0, -1):
        starts = order - n  # column where an n-gram suffix starts
        suffix_cols = cols[starts:]
        # sentence-start n-grams of this order: raw counts summed over their padded forms
        at_start = full.loc[last_bos == starts, suffix_cols + ["c"]]
        raw = _sum_counts(at_start, suffix_cols) if len(at_start) else at_start
        # other n-grams: number of distinct (n+1)-suffixes ending in them (distinct left words)
        longer = full.loc[last_bos < starts, cols[starts - 1:]].drop_duplicates()
        cont = longer.groupby(suffix_cols, sort=False).size().reset_index(name="c")
        frame = pd.concat([cont, raw], ignore_index=True)
        frame.columns = gram_columns(n) + ["a"]
        by_order[n] = frame
    specials = pd.DataFrame({"w0": np.array([UNK, BOS], dtype=np.int32), "a": np.int64(0)})
    by_order[1] = pd.concat([specials, by_order[1]], ignore_index=True)
    return by_order[1:]


# ---------------------------------------------------------------- discounts

@dataclasses.dataclass(frozen=True)
class Discount:
    d1: float
    d2: float
    d3: float  # for adjusted counts >= 3
    fallback: bool = False

    def of(self, a: np.ndarray) -> np.ndarray:
        return np.select([a == 1, a == 2, a >= 3], [self.d1, self.d2, self.d3], 0.0)


def discounts(a: np.ndarray, order: int) -> Discount:
    """Chen & Goodman's modified Kneser-Ney discounts from the counts of adjusted counts."""
    n = np.bincount(np.minimum(a, 5).astype(np.int64), minlength=6)
    if all(n[k] > 0 for k in (1, 2, 3, 4)):
        y = n[1] / (n[1] + 2.0 * n[2])
        d = [k - (k + 1) * y * n[k + 1] / n[k] for k in (1, 2, 3)]
        if all(0.0 <= dk <= k for k, dk in zip((1, 2, 3), d)):
            return Discount(*d)
    print(f"[kenlm] order {order}: counts of counts {n[1:5].tolist()} give no valid Kneser-Ney discounts; "
          f"using the fallback {FALLBACK_DISCOUNTS} (lmplz --discount_fallback)", file=sys.stderr)
    return Discount(*FALLBACK_DISCOUNTS, fallback=True)


# ---------------------------------------------------------------- probabilities

@dataclasses.dataclass
class KneserNeyModel:
    order: int
    vocab: list[str]
    grams: list[pd.DataFrame]  # per order: w0..w{n-1}, logp, (backoff for n < order)
    discounts: list[Discount]
    sentences: int
    tokens: int


def estimate(counter: NgramCounter) -> KneserNeyModel:
    order = counter.order
    adjusted = adjusted_counts(counter.finish(), order)
    ds = [discounts(frame["a"].to_numpy(), n + 1) for n, frame in enumerate(adjusted)]
    vocab_size = len(adjusted[0]) - 1  # with <unk>, without <s>
    probs: list[pd.DataFrame] = []
    gammas: list[pd.DataFrame] = []
    for n, (frame, d) in enumerate(zip(adjusted, ds), start=1):
        frame, gamma = initial_probabilities(frame, n, d)
        frame = interpolate(frame, n, gamma, probs[-1] if probs else None, vocab_size)
        probs.append(frame)
        gammas.append(gamma)
    grams = []
    for n, frame in enumerate(probs, start=1):
        out = frame[gram_columns(n)].copy()
        out["logp"] = np.minimum(0.0, np.log10(frame["p"].to_numpy()))
        if n < order:
            out["backoff"] = backoffs(frame, gammas[n], n)
        grams.append(out)
    return KneserNeyModel(order, counter.vocab.words, grams, ds, counter.sentences, counter.tokens)


def initial_probabilities(frame: pd.DataFrame, n: int, d: Discount) -> tuple[pd.DataFrame, pd.DataFrame]:
    """u for every n-gram and gamma for every context (its first n-1 words)."""
    a = frame["a"].to_numpy()
    d_of_a = d.of(a)
    ctx = gram_columns(n - 1)
    if n == 1:
        denominator = np.full(len(frame), float(a.sum()))
        gamma_value = float(d_of_a.sum() / a.sum())
        gamma = pd.DataFrame({"gamma": [gamma_value]})
    else:
        per_ctx = (frame.assign(dsum=d_of_a).groupby(ctx, sort=False, as_index=False)
                   .agg(denominator=("a", "sum"), dsum=("dsum", "sum")))
        per_ctx["gamma"] = per_ctx["dsum"] / per_ctx["denominator"]
        gamma = per_ctx[ctx + ["gamma", "denominator"]]
        frame = frame.merge(gamma, on=ctx, how="left", sort=False)
        denominator = frame["denominator"].to_numpy()
        gamma_value = frame["gamma"].to_numpy()
        gamma = gamma.drop(columns="denominator")
    # a left merge keeps the rows' order, so `a` and `d_of_a` still line up with `frame`
    frame = frame.assign(u=(a - d_of_a) / denominator, g=gamma_value)
    if n == 1:
        w = frame["w0"].to_numpy()
        frame.loc[w == UNK, "u"] = 0.0
        frame.loc[w == BOS, ["u", "g"]] = [1.0, 0.0]  # <s>: probability 1, nothing interpolated
    return frame, gamma


def interpolate(frame: pd.DataFrame, n: int, gamma: pd.DataFrame, lower: pd.DataFrame | None,
                vocab_size: int) -> pd.DataFrame:
    """p(w | c) = u(w | c) + gamma(c) p(w | c'), c' = c without its first word."""
    if n == 1:
        p_lower = np.full(len(frame), 1.0 / vocab_size)
    else:
        lower_keys = gram_columns(n - 1)
        shifted = lower[lower_keys + ["p"]].rename(columns=dict(zip(lower_keys, gram_columns(n)[1:])))
        frame = frame.merge(shifted, on=gram_columns(n)[1:], how="left", sort=False)
        if frame["p"].isna().any():
            raise AssertionError(f"order {n}: an n-gram's suffix is missing from order {n - 1}")
        p_lower = frame.pop("p").to_numpy()
    frame["p"] = frame["u"].to_numpy() + frame["g"].to_numpy() * p_lower
    return frame


def backoffs(frame: pd.DataFrame, next_gamma: pd.DataFrame, n: int) -> np.ndarray:
    """log10 gamma of each n-gram as a context of order n+1; 0 where it is no context."""
    keys = gram_columns(n)
    joined = frame[keys].merge(next_gamma, on=keys, how="left", sort=False)
    return np.log10(joined["gamma"].fillna(1.0).to_numpy())


# ---------------------------------------------------------------- ARPA

def write_arpa(model: KneserNeyModel, path: str) -> None:
    """The model as an ARPA file (n-grams in id order, 7 significant digits, as lmplz's floats)."""
    words = np.array(model.vocab, dtype=object)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n, frame in enumerate(model.grams, start=1):
            f.write(f"ngram {n}={len(frame)}\n")
        for n, frame in enumerate(model.grams, start=1):
            f.write(f"\n\\{n}-grams:\n")
            frame = frame.sort_values(gram_columns(n), kind="stable")
            text = words[frame["w0"].to_numpy()]
            for col in gram_columns(n)[1:]:
                text = text + " " + words[frame[col].to_numpy()]
            logp = [_fmt(x) for x in frame["logp"].to_numpy()]
            if "backoff" in frame:
                backoff = [_fmt(x) for x in frame["backoff"].to_numpy()]
                f.writelines(f"{p}\t{t}\t{b}\n" for p, t, b in zip(logp, text, backoff))
            else:
                f.writelines(f"{p}\t{t}\n" for p, t in zip(logp, text))
        f.write("\n\\end\\\n")


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.7g}"


def read_arpa(path: str) -> dict[tuple[str, ...], tuple[float, float]]:
    """{n-gram words: (log10 p, log10 backoff)} of an ARPA file (plain or .gz); for small models."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    entries: dict[tuple[str, ...], tuple[float, float]] = {}
    with opener(path, "rt", encoding="utf-8") as f:
        in_grams = False
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("\\") and line.endswith("-grams:"):
                in_grams = True
                continue
            if not line or line.startswith("\\"):
                continue
            if in_grams:
                parts = line.split("\t")
                backoff = float(parts[2]) if len(parts) > 2 else 0.0
                entries[tuple(parts[1].split(" "))] = (float(parts[0]), backoff)
    return entries
