"""Build a scale corpus: N GB of distinct documents recombined from the sample corpus's real text.

    .venv/bin/python scripts/build_scale_corpus.py --size-gb 1 --output /tmp/scale/1g --vocab --distinct 50000

The bench corpus (build_bench_corpus.py) runs out of real text at ~25 MB of Chinese and goes on
recombining whole paragraphs of a bounded reservoir, so beyond ~200 MB it is mostly the same text
again: dedup sees exact copies and the tokenizer's word cache a warm, bounded vocabulary. Here
every document is made fresh from the sentences and paragraphs of data/sample/*.jsonl.zst, so a
pipeline benchmark at 0.1, 1 and 10 GB sees the same kind of data at every size:

  * Good text (FAMILIES): a document of one family strings together runs of consecutive
    sentences (or lines, or clauses of long ones) of paragraphs of MIN_SOURCES (4) or more
    *different* real documents of one language, each run at most 1/4 of the document, so no two
    documents share much unless planted (a news article under the headline of yet another; a
    package synopsis over other packages' paragraphs; code: blank-line chunks of several modules).
    Lengths follow the sample's, per family. About 46% Chinese, 46% English by bytes, a few %
    other languages, zh/en bilingual pages and code.
  * Token variation (`Variation`): numbers, English proper names and identifiers, Chinese place
    names are re-drawn (`--vary-rate` of them, consistently within a document). Names are drawn by
    a Zipf-like rank (Pareto tail ZIPF_ALPHA), so new word types keep appearing as the corpus grows
    (Heaps' law, V(n) ~ n^(1/(1+alpha)) for the drawn names) instead of stopping at the sample's.
  * Junk at the bench corpus's rates (build_bench_corpus.JUNK_RATES) made from fresh documents by
    corpus_junk.make_page; planted copies: PLANTED_RATES of the documents are exact copies or near
    duplicates (corpus_junk.near_duplicate, 1-5% edited) of an earlier good document, in the same
    file or an earlier one; `_planted.jsonl` lists every pair (id, dup_of, kind, edit_rate).
  * URLs are unique per document (Zipf-drawn hosts, a per-document article number); 20% of the
    documents have none; copies keep their original's URL, a variant of it, or a new one.

Output under --output: scale-00000.jsonl, ... (--file-mb each, the last one smaller; uncompressed
so Spark can split them; records have the sample's fields: id, text, url, source, lang, kind,
origin, dup_of), `_planted.jsonl` and `_manifest.json` (counts per kind and language, bytes,
seed, files). Every document is a pure function of (seed, file, index): its RNG is seeded from
them, so output does not depend on --workers (one process per file), a planted copy can
regenerate its original from another file, and the same seed gives byte-identical files. Memory
is bounded whatever --size-gb: the sample pool (~10 MB of text) per process and one batch of lines.
Parallelism is one process per file, so a build of one file (0.1 GB at the default --file-mb) uses
one core. A smaller build is a prefix of a larger one with the same seed and --file-mb (file 0 is
the same documents, cut earlier).

--vocab prints distinct words per MB at 10, 100, 1000, ... MB (the Heaps curve); --distinct N
checks on N documents with MinHash (3-grams, LSH) that no two unplanted documents are near
duplicates.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_junk as junk  # noqa: E402
from build_bench_corpus import JUNK_RATES as BENCH_JUNK_RATES  # noqa: E402
from corpus_sources import json_line, record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GiB, MiB = 1 << 30, 1 << 20
GOOD_KINDS = ("news", "review", "docs", "package_description", "poem", "code")
PLANTED_RATES = {"exact_duplicate": 0.03, "near_duplicate": 0.03}
JUNK_RATES = {k: v for k, v in BENCH_JUNK_RATES.items() if k not in PLANTED_RATES}
NEAR_EDIT_RATE = (0.01, 0.05)  # share of characters (zh) or words edited in a near duplicate
NO_URL_RATE = 0.2
VARY_RATE = 0.5  # share of numbers / names / identifiers re-drawn (default of --vary-rate)
# Ranks of re-drawn names: P(rank > r) = (1 + r / ZIPF_SCALE)^-ZIPF_ALPHA (a Pareto tail past a flat head of
# ~ZIPF_SCALE names, none above 0.1% of the draws): Zipf's law with s = 1 + alpha in the tail, so the
# distinct names in n draws grow as n^(1 / (1 + alpha)) ~ n^0.59 (Heaps' law).
ZIPF_ALPHA = 0.7
ZIPF_SCALE = 1000
MAX_RANK = 10 ** 12
MIN_SOURCES = 4  # a document draws on this many source documents at least, each at most 1/4 of it
MAX_TEXT_CHARS = 12_000  # composed and junk texts are clipped here (the sample's longest is ~15 KB)
MAX_RECORD_BYTES = 64 << 10  # no JSON line is longer: a file of B bytes holds >= B // this documents
OTHER_LANGS = ("de", "fr", "it", "es", "pt", "ru", "ja", "ko", "ca", "id", "nb")


@dataclass(frozen=True)
class FamilySpec:
    """A family of generated documents: the sample documents it draws on and how it joins them."""

    name: str
    lang: str  # the records' lang: "zh", "en", "code", "mixed"; "other" takes each source's own
    kind: str  # the records' kind
    share: float  # of the output's good-text bytes (before junk and copies)
    source_kinds: tuple[str, ...]
    source_langs: tuple[str, ...]
    sep: str = "\n\n"  # between paragraphs, in the source and in the output
    head: bool = False  # paragraph 0 is a title (headline, package synopsis): output starts with one
    poem: bool = False  # a paragraph is a poem: its lines, always from the first


# The sample's Chinese package descriptions (60, 32 KB) are too few to recombine into distinct
# documents; reviews (600 KB of short texts) and other languages (~40 documents each) are kept small.
FAMILIES = (
    FamilySpec("zh_news", "zh", "news", 0.19, ("news",), ("zh",), sep="\n", head=True),
    FamilySpec("zh_reviews", "zh", "review", 0.06, ("review",), ("zh",), sep="\n"),
    FamilySpec("zh_docs", "zh", "docs", 0.19, ("docs",), ("zh",)),
    FamilySpec("zh_poems", "zh", "poem", 0.01, ("poem",), ("zh",), poem=True),
    FamilySpec("en_docs", "en", "docs", 0.41, ("docs",), ("en",)),
    FamilySpec("en_packages", "en", "package_description", 0.06, ("package_description",), ("en",), head=True),
    FamilySpec("other_langs", "other", "package_description", 0.01, ("docs", "package_description"), OTHER_LANGS),
    FamilySpec("mixed", "mixed", "mixed_language", 0.04, ("docs",), ("zh", "en"), sep="\n"),
    FamilySpec("code", "code", "code", 0.03, ("code",), ("code",), sep="\n\n\n"),
)

# ---------------------------------------------------------------- sentences and their slots

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_NUM = r"(?<![0-9０-９A-Za-z_.])[0-9０-９]+(?![0-9０-９A-Za-z_])"
_IDENT = r"(?<!\w)(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][a-z]+(?:[A-Z][a-z]+)+)(?!\w)"
_NAME = r"(?<=[a-z,;] )[A-Z][a-z]{2,}(?!\w)"  # a capitalized word inside an English sentence
ZH_PLACES = (
    "北京 上海 天津 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 "
    "湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 "
    "广州 深圳 珠海 南京 杭州 武汉 成都 西安 沈阳 大连 青岛 厦门 苏州 长沙 郑州 济南 哈尔滨 "
    "长春 昆明 贵阳 南宁 兰州 合肥 福州 南昌 太原 石家庄 乌鲁木齐 拉萨 银川 西宁 海口 湛江 "
    "汕头 美国 日本 英国 法国 德国 俄罗斯 韩国 印度 泰国 越南 马来西亚 新加坡 菲律宾 加拿大 "
    "澳大利亚 巴西 墨西哥 意大利 西班牙 伊拉克 伊朗 以色列 埃及 南非").split()
_PLACE = "|".join(sorted(ZH_PLACES, key=len, reverse=True))
SLOT_PATTERNS = {  # per script of the source: (slot kind, regex) in one alternation
    "en": (("num", _NUM), ("ident", _IDENT), ("name", _NAME)),
    "zh": (("num", _NUM), ("ident", _IDENT), ("place", _PLACE)),
    "other": (("num", _NUM), ("ident", _IDENT)),
    "poem": (("num", _NUM),),
    "code": (("num", _NUM), ("ident", _IDENT)),
}
_SLOT_RES = {k: re.compile("|".join(f"(?P<{n}>{p})" for n, p in v)) for k, v in SLOT_PATTERNS.items()}
_ZH_SENTENCE_END = re.compile(r"(?<=[。！？\n])")
_CLOSERS = "”’」』）)》"
_EN_SENTENCE_END = re.compile(r"(?:(?<=[.!?] )|(?<=[.!?]  ))(?=[A-Z\"'(\[])")

# A sentence is its text (with its trailing space) when nothing in it varies, else a template
# (pieces, slots): len(pieces) == len(slots) + 1 and slots are (kind, original text).
Sentence = "str | tuple[tuple[str, ...], tuple[tuple[str, str], ...]]"


def split_sentences(paragraph: str, script: str) -> list[str]:
    """Consecutive pieces of `paragraph` that join back into it: Chinese and Japanese end at 。！？
    (with their closing quotes) and line breaks; others at . ! ? before a capital.

    >>> split_sentences("他说：“好。”我们走吧！\\n第二行", "zh")
    ['他说：“好。”', '我们走吧！\\n', '第二行']
    >>> split_sentences("It works.  See below. or not", "en")
    ['It works.  ', 'See below. or not']
    """
    if script == "zh":
        out = []
        for piece in _ZH_SENTENCE_END.split(paragraph):
            if not piece:
                continue
            # a closing quote or a line break belongs to the sentence before
            head = len(piece) if piece.isspace() else len(piece) - len(piece.lstrip(_CLOSERS))
            if out and head:
                out[-1] += piece[:head]
                piece = piece[head:]
            if piece:
                out.append(piece)
        return out
    return [p for p in _EN_SENTENCE_END.split(paragraph) if p]


def template(sentence: str, slot_re: re.Pattern) -> Sentence:
    """The sentence as a template of literal pieces and slots that `Variation` may re-draw.

    >>> template("Linux 6.1 runs on Debian and python_docs.", _SLOT_RES["en"])
    (('Linux ', '.1 runs on ', ' and ', '.'), (('num', '6'), ('name', 'Debian'), ('ident', 'python_docs')))
    """
    pieces, slots, last = [], [], 0
    for m in slot_re.finditer(sentence):
        pieces.append(sentence[last:m.start()])
        slots.append((m.lastgroup, m.group()))
        last = m.end()
    if not slots:
        return sentence
    pieces.append(sentence[last:])
    return tuple(pieces), tuple(slots)


# ---------------------------------------------------------------- re-drawn tokens

EN_SYLLABLES = [c + v for c in "b c d f g h j k l m n p r s t v w z".split() for v in "aeiou"] + \
    ["an", "el", "in", "or", "us", "ar", "en", "is", "on", "ul"]
ZH_NAME_CHARS = ("安宁平和兴华新东西南北中山川江河湖海阳城林泉石桥庄丰泰昌盛永宝金玉龙凤"
                 "云天长乐明德清源文武光荣福寿康吉祥瑞春秋夏冬松柏梅竹兰溪峰岭湾洲岛坪塘"
                 "港口台州县镇乡村水田禾青白红黄绿紫")
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def ranked_name(rank: int, symbols: list[str] | str) -> str:
    """The name of Zipf rank `rank`: its digits in base len(symbols), at least two symbols, so
    frequent ranks get short names and every rank its own.

    >>> ranked_name(0, "ab"), ranked_name(1, "ab"), ranked_name(2, "ab"), ranked_name(5, "ab")
    ('ab', 'bb', 'aab', 'bbb')
    """
    base, r, out = len(symbols), rank + len(symbols), []
    while r:
        r, d = divmod(r, base)
        out.append(symbols[d])
    return "".join(out)


class Variation:
    """Re-draws the slots of one document's sentences: numbers anew each time, names and
    identifiers once per document (the same original, the same replacement)."""

    def __init__(self, rng: random.Random, rate: float):
        self.rng, self.rate, self.names = rng, rate, {}

    def render(self, s: Sentence) -> str:
        if type(s) is str:
            return s
        pieces, slots = s
        out = [pieces[0]]
        rnd = self.rng.random
        for (kind, orig), piece in zip(slots, pieces[1:]):
            if kind == "num":
                out.append(self._number(orig) if rnd() < self.rate else orig)
            else:
                new = self.names.get(orig)
                if new is None:
                    new = self.names[orig] = self._name(kind, orig) if rnd() < self.rate else orig
                out.append(new)
            out.append(piece)
        return "".join(out)

    def _rank(self) -> int:
        return min(int(ZIPF_SCALE * (self.rng.paretovariate(ZIPF_ALPHA) - 1)), MAX_RANK)

    def _number(self, orig: str) -> str:
        n, rng = len(orig), self.rng
        if n == 4 and orig[:2] in ("19", "20", "１９", "２０"):
            new = str(rng.randint(1950, 2025))
        elif n == 1 or orig[0] in "0０":
            new = "".join(rng.choice("0123456789") for _ in range(n))
        else:
            new = str(rng.randrange(10 ** (n - 1), 10 ** n))
        return new.translate(_FULLWIDTH_DIGITS) if "０" <= orig[0] <= "９" else new

    def _name(self, kind: str, orig: str) -> str:
        if kind == "place":
            return ranked_name(self._rank(), ZH_NAME_CHARS)
        if kind == "name":
            return ranked_name(self._rank(), EN_SYLLABLES).capitalize()
        if "_" in orig:  # snake_case identifier: as many parts, up to three
            return "_".join(ranked_name(self._rank(), EN_SYLLABLES) for _ in range(min(3, orig.count("_") + 1)))
        return "".join(ranked_name(self._rank(), EN_SYLLABLES).capitalize() for _ in range(2))  # CamelCase


# ---------------------------------------------------------------- the pool of real text

@dataclass(frozen=True)
class SourceText:
    """One sample document as paragraphs of sentence templates."""

    paragraphs: tuple[tuple[Sentence, ...], ...]  # units: sentences, lines, parts of long ones


@dataclass
class Family:
    spec: FamilySpec
    texts: dict[str, list[SourceText]]  # per language
    lang_weights: tuple[list[str], list[float]]  # languages and their cumulative text bytes
    lengths: list[int]  # characters of each sample document of the family
    mean_bytes: float = 0.0  # of its generated documents (load_pool measures it)


@dataclass
class Pool:
    families: list[Family]
    cum_weights: list[float]  # pick a family with P ~ share / mean bytes: byte shares as in FAMILIES
    borrowed: junk.Borrowed  # titles and sentences junk pages borrow
    digest: str  # of the sample files, for the manifest


def read_sample(sample_dir: str) -> list[dict]:
    import zstandard

    docs = []
    for path in sorted(glob.glob(os.path.join(sample_dir, "*.jsonl.zst"))):
        with open(path, "rb") as fh:
            data = zstandard.ZstdDecompressor().stream_reader(fh).read().decode("utf-8")
        docs += [json.loads(line) for line in data.splitlines() if line.strip()]
    return docs


def script_of(lang: str, spec: FamilySpec) -> str:
    if spec.kind in ("poem", "code"):
        return spec.kind
    if lang in ("zh", "ja"):
        return "zh"
    return "en" if lang == "en" else "other"


def split_long(piece: str, cap: int) -> list[str]:
    """`piece` in consecutive parts of at most about `cap` characters: whole lines when they fit,
    else clauses (after ，,；;：:、．. and spaces), else hard cuts.

    >>> split_long("第一句，第二句，第三句。", 5)
    ['第一句，', '第二句，', '第三句。']
    """
    if len(piece) <= cap:
        return [piece]
    small = []
    for line in _AFTER_LINE.split(piece):
        if len(line) <= cap:
            small.append(line)
            continue
        for clause in _AFTER_CLAUSE.split(line):
            small += [clause[k:k + cap] for k in range(0, len(clause), cap)]
    out = []
    for part in small:
        if part and out and len(out[-1]) + len(part) <= cap:
            out[-1] += part
        elif part:
            out.append(part)
    return out


def source_text(text: str, lang: str, spec: FamilySpec) -> SourceText | None:
    """Paragraphs of units: sentences of prose, lines of line-broken blocks (code samples, tables,
    lists), blank-line separated chunks of a code file (one paragraph), lines of poems; long ones
    split to at most UNIT_CHARS."""
    script = script_of(lang, spec)
    slot_re = _SLOT_RES[script]
    if spec.kind == "code":
        paragraphs = [[u for u in _AFTER_BLANK_LINE.split(text.strip("\n")) if u.strip()]]
    else:
        paragraphs = []
        for p in text.split(spec.sep):
            p = p.strip("\n")
            if not p.strip():
                continue
            if spec.poem:
                paragraphs.append([p])
            elif script != "zh" and "\n" in p:
                paragraphs.append(_AFTER_LINE.split(p))
            else:
                paragraphs.append(split_sentences(p, script))
    paras = []
    for pieces in paragraphs:
        units = tuple(template(u, slot_re) for piece in pieces if piece for u in split_long(piece, UNIT_CHARS[script]))
        if units:
            paras.append(units)
    return SourceText(tuple(paras)) if paras else None


_AFTER_LINE = re.compile(r"(?<=\n)")
_AFTER_BLANK_LINE = re.compile(r"(?<=\n\n)(?=\S)")
_AFTER_CLAUSE = re.compile(r"(?<=[，,；;：:、．. ])")
UNIT_CHARS = {"zh": 100, "en": 200, "other": 200, "poem": 100, "code": 400}


@cache
def load_pool(sample_dir: str) -> Pool:
    """The sample's good documents, cut into families of sentence templates (cached per process)."""
    docs = [d for d in read_sample(sample_dir) if d["kind"] in GOOD_KINDS and d["dup_of"] is None]
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(sample_dir, "*.jsonl.zst"))):
        with open(path, "rb") as fh:
            h.update(fh.read())
    fams = []
    for spec in FAMILIES:
        members = [d for d in docs if d["kind"] in spec.source_kinds and d["lang"] in spec.source_langs]
        texts: dict[str, list[SourceText]] = {}
        lang_bytes = Counter()
        for d in members:
            st = source_text(d["text"], d["lang"], spec)
            if st is not None and (not spec.head or len(st.paragraphs) > 1):
                texts.setdefault(d["lang"], []).append(st)
                lang_bytes[d["lang"]] += len(d["text"].encode())
        langs = sorted(texts)
        cum, total = [], 0
        for lang in langs:
            total += lang_bytes[lang]
            cum.append(total)
        if spec.kind == "mixed_language":  # as long as the sample's bilingual pages
            members = [d for d in read_sample(sample_dir) if d["kind"] == "mixed_language"]
        fams.append(Family(spec, texts, (langs, cum), sorted(len(d["text"]) for d in members)))
    for fam in fams:  # the mean size of generated documents (longer than the sample's: two sources at least)
        rng = random.Random(fam.spec.name)
        fam.mean_bytes = sum(len(compose(fam, rng, Variation(rng, VARY_RATE))[0].encode()) for _ in range(300)) / 300
    weights, cum = [f.spec.share / f.mean_bytes for f in fams], []
    for w in weights:
        cum.append((cum[-1] if cum else 0) + w)
    zh = [d["text"] for d in docs if d["lang"] == "zh" and d["kind"] in ("news", "docs", "review")]
    en = [d["text"] for d in docs if d["lang"] == "en" and d["kind"] in ("docs", "package_description")]
    return Pool(fams, cum, junk.Borrowed.from_texts(zh, en), h.hexdigest()[:16])


# ---------------------------------------------------------------- documents

def run_of(units: tuple[Sentence, ...], rng: random.Random, var: Variation, limit: float, first: bool = False) -> str:
    """Units of a paragraph from a random one on (its first with `first`), rendered, until `limit`
    characters."""
    k = len(units)
    i = 0 if first else int(rng.random() * k)
    out, size = [], 0
    while i < k and size < limit:
        out.append(var.render(units[i]))
        size += len(out[-1])
        i += 1
    return "".join(out).rstrip()


def compose(fam: Family, rng: random.Random, var: Variation) -> tuple[str, str]:
    """(text, lang) of a new document of `fam`, as long as a sample document of the family (drawn
    at random): blocks of 1-3 paragraphs of MIN_SOURCES or more source documents, each block a run
    of units of at most 1/MIN_SOURCES of the length, so no source makes up much of a document."""
    spec = fam.spec
    target = min(rng.choice(fam.lengths) * rng.uniform(0.8, 1.25), MAX_TEXT_CHARS)
    limit = max(target / MIN_SOURCES, 100)
    if spec.kind == "mixed_language":  # zh and en blocks in turn
        langs, lang = ["zh", "en"] if rng.random() < 0.5 else ["en", "zh"], "mixed"
    else:
        names, cum = fam.lang_weights
        lang = names[0] if len(names) == 1 else rng.choices(names, cum_weights=cum)[0]
        langs = [lang]
    parts, size, used, blocks = [], 0, set(), 0
    if spec.head:
        title = rng.choice(fam.texts[lang]).paragraphs[0]
        parts.append(run_of(title, rng, var, limit, first=True))
    while size < target or blocks < MIN_SOURCES:
        li = blocks % len(langs)
        texts = fam.texts[langs[li]]
        i = int(rng.random() * len(texts))
        if (li, i) in used and len(used) < len(texts):
            continue  # a block of another source document
        used.add((li, i))
        blocks += 1
        body = texts[i].paragraphs[1:] if spec.head else texts[i].paragraphs
        n = 1 + int(rng.random() * min(3, len(body)))
        start = int(rng.random() * (len(body) - n + 1))
        block = 0
        for para in body[start:start + n]:
            parts.append(run_of(para, rng, var, limit - block, first=spec.poem))
            block += len(parts[-1]) + len(spec.sep)
            if block >= limit or (size + block >= target and blocks >= MIN_SOURCES):
                break
        size += block
    text = spec.sep.join(p for p in parts if p)
    return junk.clip(text, MAX_TEXT_CHARS), lang


@dataclass(frozen=True)
class BuildConfig:
    """What the output depends on (not --workers)."""

    output: str
    size_bytes: int
    file_bytes: int
    seed: int
    vary_rate: float = VARY_RATE
    sample_dir: str = os.path.join(ROOT, "data", "sample")

    @property
    def n_files(self) -> int:
        return max(1, math.ceil(self.size_bytes / self.file_bytes))

    def file_target(self, f: int) -> int:
        return min(self.file_bytes, self.size_bytes - f * self.file_bytes) if f < self.n_files - 1 else \
            self.size_bytes - (self.n_files - 1) * self.file_bytes


def doc_key(seed: int, f: int, n: int) -> bytes:
    return hashlib.blake2b(f"{seed}/{f}/{n}".encode(), digest_size=8).digest()


def doc_id(key: bytes, f: int) -> str:
    return f"scale{f:05d}-{key.hex()}"


SYLLABLE_HOST = [s for s in EN_SYLLABLES if len(s) == 2]


def doc_url(rng: random.Random, lang: str, f: int, n: int, text: str, none_rate: float = NO_URL_RATE) -> str | None:
    """A unique URL (the article number is the document's place) on a Zipf-drawn host, or None."""
    if rng.random() < none_rate:
        return None
    host = ranked_name(min(int(rng.paretovariate(0.8)), MAX_RANK), SYLLABLE_HOST)
    article = (f + 1) * 10 ** 8 + n
    y, m, d = rng.randint(2010, 2024), rng.randint(1, 12), rng.randint(1, 28)
    if lang in ("zh", "mixed"):
        dom = f"{rng.choice(['www.', 'news.', 'bbs.', ''])}{host}.{rng.choice(['cn', 'com.cn', 'com', 'net'])}"
        return rng.choice([f"https://{dom}/{y}/{m:02d}{d:02d}/{article}.shtml", f"https://{dom}/article/{article}.html",
                           f"http://{dom}/html/{y}{m:02d}/{article}.htm", f"https://{dom}/thread-{article}-1-1.html"])
    dom = f"{rng.choice(['www.', 'blog.', 'docs.', ''])}{host}.{rng.choice(['com', 'org', 'net', 'io', 'dev'])}"
    slug = "-".join(re.findall(r"[a-z0-9]+", text[:120].lower())[:5]) or "page"
    return rng.choice([f"https://{dom}/{y}/{m:02d}/{slug}-{article}/", f"https://{dom}/posts/{article}/{slug}",
                       f"http://{dom}/index.php?p={article}"])


def bounded(rec: dict) -> dict:
    """The record, its text clipped until its JSON line fits in MAX_RECORD_BYTES."""
    if len(rec["text"]) <= 10_000:  # at most 6 bytes a character (\uXXXX) and a URL: it fits
        return rec
    while len(json_line(rec).encode()) > MAX_RECORD_BYTES:
        rec["text"] = junk.clip(rec["text"], len(rec["text"]) * 2 // 3)
    return rec


def draw_fate(rng: random.Random) -> str:
    r = rng.random()
    for kind, rate in (*PLANTED_RATES.items(), *JUNK_RATES.items()):
        if r < rate:
            return kind
        r -= rate
    return "good"


def doc_rng(cfg: BuildConfig, f: int, n: int) -> tuple[random.Random, bytes]:
    key = doc_key(cfg.seed, f, n)
    return random.Random(int.from_bytes(key, "little")), key


def good_record(pool: Pool, cfg: BuildConfig, f: int, n: int, rng: random.Random, key: bytes) -> tuple[dict, Family]:
    """A new good document for place (f, n), drawn from `rng` as it stands."""
    fam = pool.families[_pick(rng, pool.cum_weights)]
    text, lang = compose(fam, rng, Variation(rng, cfg.vary_rate))
    rec = record(doc_id(key, f), text, url=doc_url(rng, lang, f, n, text), source=fam.spec.name,
                 lang=fam.spec.lang if fam.spec.lang != "other" else lang, kind=fam.spec.kind,
                 origin=f"recombined:{fam.spec.name}")
    return bounded(rec), fam


def regenerate(pool: Pool, cfg: BuildConfig, f: int, n: int) -> dict | None:
    """The document at (f, n) if it is a good one (what make_doc wrote there), else None."""
    rng, key = doc_rng(cfg, f, n)
    return good_record(pool, cfg, f, n, rng, key)[0] if draw_fate(rng) == "good" else None


def _pick(rng: random.Random, cum: list[float]) -> int:
    x = rng.random() * cum[-1]
    return next(i for i, c in enumerate(cum) if x < c)


def original_for(pool: Pool, cfg: BuildConfig, f: int, n: int, rng: random.Random) -> dict | None:
    """A good document before (f, n) to copy: half the time from this file, else an earlier one
    (among its first documents that surely exist: a file of B bytes holds >= B // MAX_RECORD_BYTES)."""
    for _ in range(10):
        if f == 0 or rng.random() < 0.5:
            if n == 0:
                return None
            j, m = f, rng.randrange(n)
        else:
            j = rng.randrange(f)
            cap = cfg.file_target(j) // MAX_RECORD_BYTES
            if cap == 0:
                continue
            m = rng.randrange(cap)
        rec = regenerate(pool, cfg, j, m)
        if rec is not None:
            return rec
    return None


def planted_copy(orig: dict, kind: str, rng: random.Random, key: bytes, f: int, n: int) -> tuple[dict, dict]:
    """An exact or near copy of `orig` under its URL, a variant of it or a new one; (record, pair)."""
    rate = round(rng.uniform(*NEAR_EDIT_RATE), 4) if kind == "near_duplicate" else 0.0
    text = orig["text"] if kind == "exact_duplicate" else junk.near_duplicate(orig["text"], orig["lang"], rng, rate)
    url = rng.choice([orig["url"], junk.url_variant(orig["url"], rng), doc_url(rng, orig["lang"], f, n, text)])
    rec = bounded(record(doc_id(key, f), text, url=url, source=orig["source"], lang=orig["lang"], kind=kind,
                         origin=orig["origin"], dup_of=orig["id"]))
    return rec, {"id": rec["id"], "dup_of": orig["id"], "kind": kind, "edit_rate": rate, "lang": orig["lang"]}


def junk_record(rec: dict, kind: str, rng: random.Random, pool: Pool, f: int, n: int) -> dict:
    """A crawled page of junk `kind` made from a fresh good document (corpus_junk.make_page)."""
    lang = rec["lang"] if rec["lang"] != "mixed" else "zh"
    page = junk.make_page(kind, lang, rec["text"], rec["origin"], rng, pool.borrowed)
    url = page.url
    if url is not None:  # make_page's numbers collide at scale: the document's own URL, on a spam host for spam
        url = (f"http://{url.split('/', 3)[2]}/{(f + 1) * 10 ** 8 + n}.html" if kind == "spam"
               else doc_url(rng, page.lang, f, n, page.text, none_rate=0))
    return bounded(record(rec["id"], junk.clip(page.text, MAX_TEXT_CHARS), url=url, source="web", lang=page.lang,
                          kind=page.kind, origin=rec["origin"]))


def make_doc(pool: Pool, cfg: BuildConfig, f: int, n: int) -> tuple[dict, str, dict | None]:
    """The document at place n of file f: (record, family name, planted pair or None)."""
    rng, key = doc_rng(cfg, f, n)
    fate = draw_fate(rng)
    if fate in PLANTED_RATES:
        orig = original_for(pool, cfg, f, n, rng)
        if orig is not None:
            rec, pair = planted_copy(orig, fate, rng, key, f, n)
            return rec, orig["source"], pair
        fate = "good"  # nothing to copy yet (the first documents)
    rec, fam = good_record(pool, cfg, f, n, rng, key)
    if fate != "good" and fam.spec.kind != "code" and junk.applies(fate, rec["lang"]):
        rec = junk_record(rec, fate, rng, pool, f, n)
    return rec, fam.spec.name, None


# ---------------------------------------------------------------- files

@dataclass
class Stats:
    """What was written; merges with `+` across files."""

    docs: int = 0
    bytes: int = 0
    kinds: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    kind_text_bytes: Counter = field(default_factory=Counter)
    lang_text_bytes: Counter = field(default_factory=Counter)
    family_text_bytes: Counter = field(default_factory=Counter)
    planted: Counter = field(default_factory=Counter)
    files: list = field(default_factory=list)  # [name, bytes, docs] per file
    cpu_seconds: float = 0.0  # of the workers (not in the manifest: it varies)

    def add(self, rec: dict, family: str, line_bytes: int) -> None:
        n = len(rec["text"].encode("utf-8"))
        self.docs += 1
        self.bytes += line_bytes
        self.kinds[rec["kind"]] += 1
        self.langs[rec["lang"]] += 1
        self.kind_text_bytes[rec["kind"]] += n
        self.lang_text_bytes[rec["lang"]] += n
        self.family_text_bytes[family] += n

    def __add__(self, other: "Stats") -> "Stats":
        return Stats(self.docs + other.docs, self.bytes + other.bytes, self.kinds + other.kinds,
                     self.langs + other.langs, self.kind_text_bytes + other.kind_text_bytes,
                     self.lang_text_bytes + other.lang_text_bytes, self.family_text_bytes + other.family_text_bytes,
                     self.planted + other.planted, self.files + other.files, self.cpu_seconds + other.cpu_seconds)


def file_name(f: int) -> str:
    return f"scale-{f:05d}.jsonl"


def write_file(task: tuple[BuildConfig, int]) -> Stats:
    """Writes file f (as .tmp) and its planted pairs (_planted-NNNNN.tmp); returns its Stats."""
    cfg, f = task
    cpu = time.process_time()
    pool = load_pool(cfg.sample_dir)
    stats, target, n = Stats(), cfg.file_target(f), 0
    path = os.path.join(cfg.output, file_name(f))
    with open(path + ".tmp", "wb") as out, open(os.path.join(cfg.output, f"_planted-{f:05d}.tmp"), "wb") as planted:
        while stats.bytes < target:
            lines, pairs = [], []
            while stats.bytes < target and len(lines) < 512:  # a batch of lines, one write
                rec, family, pair = make_doc(pool, cfg, f, n)
                line = json_line(rec)
                stats.add(rec, family, len(line.encode("utf-8")))
                lines.append(line)
                if pair:
                    pairs.append(json.dumps(pair, ensure_ascii=False) + "\n")
                    stats.planted[pair["kind"]] += 1
                n += 1
            out.write("".join(lines).encode("utf-8"))
            planted.write("".join(pairs).encode("utf-8"))
    stats.files = [[file_name(f), stats.bytes, stats.docs]]
    stats.cpu_seconds = time.process_time() - cpu
    return stats


def build(cfg: BuildConfig, workers: int) -> Stats:
    """All files (one task each, in any order), then the renames, _planted.jsonl, _manifest.json."""
    os.makedirs(cfg.output, exist_ok=True)
    load_pool(cfg.sample_dir)  # forked workers inherit it
    tasks = [(cfg, f) for f in range(cfg.n_files)]
    if workers <= 1 or len(tasks) == 1:
        parts = [write_file(t) for t in tasks]
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(tasks))) as procs:
            parts = procs.map(write_file, tasks, chunksize=1)
    stats = sum(parts[1:], parts[0])
    finish(cfg, stats)
    return stats


def finish(cfg: BuildConfig, stats: Stats) -> None:
    keep = set()
    with open(os.path.join(cfg.output, "_planted.jsonl"), "wb") as out:
        for f in range(cfg.n_files):
            part = os.path.join(cfg.output, f"_planted-{f:05d}.tmp")
            with open(part, "rb") as fh:
                out.write(fh.read())
            os.remove(part)
            os.replace(os.path.join(cfg.output, file_name(f) + ".tmp"), os.path.join(cfg.output, file_name(f)))
            keep.add(file_name(f))
    for name in os.listdir(cfg.output):  # parts of an earlier, larger build
        if name.startswith("scale-") and name.endswith(".jsonl") and name not in keep:
            os.remove(os.path.join(cfg.output, name))
    manifest = {
        "seed": cfg.seed, "size_bytes_requested": cfg.size_bytes, "file_bytes": cfg.file_bytes,
        "vary_rate": cfg.vary_rate, "zipf_alpha": ZIPF_ALPHA, "sample_sha256": load_pool(cfg.sample_dir).digest,
        "bytes": stats.bytes, "docs": stats.docs, "files": stats.files, "planted_file": "_planted.jsonl",
        "planted": dict(sorted(stats.planted.items())), "kinds": dict(sorted(stats.kinds.items())),
        "kind_text_bytes": dict(sorted(stats.kind_text_bytes.items())), "langs": dict(sorted(stats.langs.items())),
        "lang_text_bytes": dict(sorted(stats.lang_text_bytes.items())),
        "family_text_bytes": dict(sorted(stats.family_text_bytes.items())),
    }
    with open(os.path.join(cfg.output, "_manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


# ---------------------------------------------------------------- measures

def iter_records(out_dir: str, max_bytes: float = math.inf):
    """The records of a build, in file order, up to about max_bytes of JSONL."""
    seen = 0
    for path in sorted(glob.glob(os.path.join(out_dir, "scale-*.jsonl"))):
        with open(path, "rb") as fh:
            for line in fh:
                seen += len(line)
                yield json.loads(line), seen
                if seen >= max_bytes:
                    return


_WORD = re.compile(rf"[^\W{_CJK}]+")
_CJK_RUN = re.compile(f"[{_CJK}]{{2,}}")


def vocabulary_growth(out_dir: str, checkpoints_mb: list[float]) -> list[dict]:
    """Distinct words (runs of letters/digits outside CJK: the word cache's segments) and distinct
    CJK character bigrams in the first `mb` MiB of the build, at each checkpoint."""
    import numpy as np

    words, bigrams, rows, texts, todo = set(), np.empty(0, np.uint64), [], [], sorted(checkpoints_mb)
    prev = None

    def flush():
        nonlocal bigrams
        joined = "\n".join(texts)
        words.update(_WORD.findall(joined))
        cp = np.frombuffer("\n".join(_CJK_RUN.findall(joined)).encode("utf-32-le"), np.uint32).astype(np.uint64)
        if len(cp) > 1:
            codes = (cp[:-1] << np.uint64(21)) | cp[1:]
            codes = codes[(cp[:-1] != 10) & (cp[1:] != 10)]
            bigrams = np.union1d(bigrams, np.unique(codes))
        texts.clear()

    for rec, seen in iter_records(out_dir, todo[-1] * MiB):
        texts.append(rec["text"])
        if len(texts) >= 4000:
            flush()
        while todo and seen >= todo[0] * MiB:
            flush()
            mb = seen / MiB
            row = {"mb": round(mb, 1), "words": len(words), "words_per_mb": round(len(words) / mb),
                   "zh_bigrams": len(bigrams)}
            if prev:
                row["new_words_per_mb"] = round((len(words) - prev["words"]) / (mb - prev["mb"]))
                row["heaps_beta"] = round(math.log(len(words) / prev["words"]) / math.log(mb / prev["mb"]), 3)
            rows.append(row)
            prev = row
            todo.pop(0)
    if todo and texts:  # the build is smaller than the last checkpoint
        flush()
    return rows


def distinctness(out_dir: str, max_docs: int, bands: int = 42, rows: int = 3) -> dict:
    """Near-duplicate pairs among the first max_docs documents (MinHash of word/char 3-grams,
    128 permutations, LSH with `bands` x `rows`: a pair with Jaccard 0.5 collides in some band
    with probability 1 - (1 - 0.5^3)^42 = 0.996). Reports the highest estimated Jaccard among
    unplanted pairs (not a copy and its original, nor two copies of one original) and the lowest
    among planted ones; 'short' pages (titles, stock error pages) are left out."""
    import numpy as np

    sys.path.insert(0, ROOT)
    from corpus_tools.minhash import MinHasher, band_hashes

    recs = [r for r, _ in zip((r for r, _ in iter_records(out_dir)), range(max_docs))]
    recs = [r for r in recs if r["kind"] != "short"]
    sigs = MinHasher(ngram=3, hash="murmur3").signatures([r["text"] for r in recs])
    group = [r["dup_of"] or r["id"] for r in recs]
    keys = band_hashes(sigs, bands, rows)
    pairs = set()
    for b in range(bands):
        order = np.argsort(keys[:, b], kind="stable")
        k = keys[order, b]
        cuts = np.flatnonzero(np.diff(k)) + 1
        for bucket in np.split(order, cuts):
            if 1 < len(bucket):
                ids = sorted(bucket.tolist())[:200]  # a huge bucket would be one cluster anyway
                pairs.update((a, c) for i, a in enumerate(ids) for c in ids[i + 1:])
    worst, planted_min, over, examples = 0.0, 1.0, Counter(), []
    for a, c in pairs:
        j = float((sigs[a] == sigs[c]).mean())
        if group[a] == group[c]:
            planted_min = min(planted_min, j)
            continue
        worst = max(worst, j)
        for t in (0.3, 0.4, 0.5):
            if j >= t:
                over[f">={t}"] += 1
        if j >= 0.5:
            over["/".join(sorted((recs[a]["kind"], recs[c]["kind"])))] += 1
            examples.append((round(j, 3), recs[a]["id"], recs[c]["id"]))
    return {"docs": len(recs), "candidate_pairs": len(pairs), "max_unplanted_jaccard": round(worst, 3),
            "unplanted_pairs": dict(over), "examples": sorted(examples, reverse=True)[:3],
            "min_planted_candidate_jaccard": round(planted_min, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-gb", type=float, default=1.0, help="GiB of JSONL to write (at least)")
    ap.add_argument("--file-mb", type=float, default=256, help="MiB per output file (the last is smaller)")
    ap.add_argument("--output", required=True)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--vary-rate", type=float, default=VARY_RATE, help="share of numbers/names re-drawn")
    ap.add_argument("--vocab", action="store_true", help="print the vocabulary growth (Heaps) curve")
    ap.add_argument("--distinct", type=int, default=0, metavar="N", help="MinHash check on the first N docs")
    ap.add_argument("--no-build", action="store_true", help="only measure an existing build")
    args = ap.parse_args(argv)
    cfg = BuildConfig(args.output, int(args.size_gb * GiB), int(args.file_mb * MiB), args.seed, args.vary_rate)
    if not args.no_build:
        t0 = time.perf_counter()
        stats = build(cfg, args.workers)
        dt = time.perf_counter() - t0
        zh, en = stats.lang_text_bytes["zh"], stats.lang_text_bytes["en"]
        text = sum(stats.lang_text_bytes.values())
        print(f"{stats.docs} docs, {len(stats.files)} files, {stats.bytes / MiB:.1f} MiB in {dt:.1f} s: "
              f"{stats.bytes / MiB / dt:.1f} MiB/s with {args.workers} workers, "
              f"{stats.bytes / MiB / stats.cpu_seconds:.1f} MiB per worker CPU-second")
        print(f"text bytes: zh {zh / text:.1%}, en {en / text:.1%}, other {(text - zh - en) / text:.1%}; "
              f"planted {dict(stats.planted)}")
    if args.vocab:
        size_mb = cfg.size_bytes / MiB
        marks = [m for m in (10, 100, 1000, 10000) if m < size_mb * 0.99] + [size_mb]
        for row in vocabulary_growth(cfg.output, marks):
            print("vocab", json.dumps(row))
    if args.distinct:
        t0 = time.perf_counter()
        print("distinct", json.dumps(distinctness(cfg.output, args.distinct)), f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
