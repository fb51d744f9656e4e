"""Ziya2's preprocessing stage: character-level normalization and splitting of over-long documents.

    pre = Preprocessor()                    # defaults are the clean job's settings
    text = pre.normalize(raw_text)
    for seg_id, seg_text in pre.split(doc_id, text):
        ...

Each step is a `Normalizer` with one method, `normalize(text) -> str`, and every step (and the
whole chain) is idempotent: normalize(normalize(x)) == normalize(x) (for HTML escaped up to eight
times over; tests check every code point and seeded random junk). Steps skip work they cannot
do (ASCII text has nothing for NFKC or OpenCC; text without '<' or '&' has no HTML), which keeps
the chain far above the 10 MB/s per core the clean job's budget needs (benchmarks/bench_preprocess.py).

Decisions worth knowing:
- Chinese full-width punctuation `，！？：；（）` is kept by both NFKC and the full-width step:
  Chinese text is written with it (GB/T 15834), and plain NFKC would turn `，` into `,`.
  `。、「」《》“”` are not compatibility characters, so NFKC leaves them alone anyway.
  Full-width letters, digits and other symbols (`ＡＢＣ１２３＃`) become ASCII; U+3000 becomes a space.
- NFKC already folds full-width forms, so the full-width step only runs when NFKC is off.
- Control-character removal keeps `\\n` and `\\t`, turns the other line breaks (`\\r\\n`, `\\r`,
  `\\v`, `\\f`, U+0085, U+2028, U+2029) into newlines rather than gluing lines together, keeps a
  zero-width joiner only inside an emoji sequence, and removes Unicode tag characters (invisible
  ASCII look-alikes that break subdivision flags but are also used to smuggle hidden text).
  U+FFFD is kept by default so later rules can count encoding damage.
- HTML stripping decodes entities until no tag or entity is left, so `&lt;b&gt;` ends as nothing:
  this is for web text, where escaped markup is junk; turn it off for sources about HTML or code.
  Only known HTML element names (plus custom `a-b` and namespaced `o:p` elements) count as tags,
  so `List<String>` or `x < y > z` survive.
- Traditional-to-simplified conversion runs only on text with Han characters, and not on text that
  looks Japanese (kana are >= 20% of its CJK characters), whose kanji OpenCC would otherwise rewrite.
"""
from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import regex

from corpus_tools.config import PositiveInt
from corpus_tools.document import segment_id

CJK_FULLWIDTH_PUNCTUATION = "，！？：；（）"  # kept full-width by NFKC and the full-width step


class Normalizer:
    """One preprocessing step: `normalize(text) -> str`, idempotent, fast when there is nothing to do."""

    name: ClassVar[str]

    def normalize(self, text: str) -> str:
        raise NotImplementedError


# --------------------------------------------------------------------------------------- controls

_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028]")
_INVISIBLE = (
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"  # C0/C1 controls except \t \n \v \f \r and U+0085
    "\u00ad"  # soft hyphen
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, isolates
    "\u180e\u200b\u200c\u2060-\u2064\ufeff"  # zero-width space/non-joiner, word joiner, invisible operators, BOM
    "\ufdd0-\ufdef\ufffe\uffff\ufff9-\ufffb"  # noncharacters, interlinear annotation marks
    "\U000e0000-\U000e007f"  # tag characters
)
# Stdlib `re` scans a character class ~10x faster than `regex`, so the common case (nothing to
# remove) costs one fast search; `regex` (for emoji properties) runs only where a ZWJ occurs.
_CONTROL_OR_BREAK = re.compile(f"[{_INVISIBLE}\r\x0b\x0c\x85\u2028\u2029\u200d]")
_CONTROL = re.compile(f"[{_INVISIBLE}]+")
# A zero-width joiner survives only between two pictographs (inside an emoji ZWJ sequence).
_LONE_ZWJ = regex.compile(
    r"\u200d(?:(?![\p{Extended_Pictographic}\p{Emoji_Presentation}])"
    r"|(?<![\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Emoji_Modifier}\ufe0f]\u200d))"
)


@dataclass
class ControlCharRemover(Normalizer):
    """Remove control and invisible characters; turn line-break controls into newlines."""

    name: ClassVar[str] = "remove_control"
    remove_replacement_char: bool = False  # U+FFFD: kept by default so rules can count mojibake

    def normalize(self, text: str) -> str:
        if self.remove_replacement_char and "\ufffd" in text:
            text = text.replace("\ufffd", "")
        if not _CONTROL_OR_BREAK.search(text):
            return text
        text = _LINE_BREAKS.sub("\n", text).replace("\u2029", "\n\n")
        if "\u200d" in text:
            text = _LONE_ZWJ.sub("", text)
        return _CONTROL.sub("", text)


# ------------------------------------------------------------------------------------ NFKC, width


@functools.lru_cache(maxsize=None)
def _keep_splitter(keep: str) -> re.Pattern:
    return re.compile(f"([{re.escape(keep)}]+)")


@dataclass
class UnicodeNFKC(Normalizer):
    """Unicode NFKC (compatibility composition), except for the full-width punctuation in `keep`.

    Folds full-width forms, ligatures, circled and super/subscript characters, compatibility
    ideographs and NBSP/U+3000 (to a space), and composes combining marks (e + U+0301 -> é).
    """

    name: ClassVar[str] = "nfkc"
    keep: str = CJK_FULLWIDTH_PUNCTUATION

    def normalize(self, text: str) -> str:
        if text.isascii():
            return text
        # Already normalized (e.g. a second pass)? Check with the kept characters swapped for
        # an inert ASCII starter: unicodedata's quick check runs at several hundred MB/s.
        probe = text
        for ch in self.keep:
            if ch in probe:
                probe = probe.replace(ch, ",")
        if unicodedata.is_normalized("NFKC", probe):
            return text
        # Normalize piece by piece: unicodedata returns a piece that passes its quick check
        # untouched, so one odd character costs its line or clause, not the whole document.
        # NFKC never composes across a newline or the kept punctuation, so the pieces are independent.
        if probe is text:  # none of the kept characters occur
            return "\n".join([unicodedata.normalize("NFKC", p) for p in text.split("\n")])
        parts = _keep_splitter(self.keep).split(text)  # odd indexes hold the kept punctuation
        parts[::2] = [unicodedata.normalize("NFKC", p) for p in parts[::2]]
        return "".join(parts)


_FULLWIDTH_TO_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@functools.lru_cache(maxsize=None)
def _fullwidth_run(keep: str) -> re.Pattern:
    wide = "".join(chr(c) for c in sorted(_FULLWIDTH_TO_ASCII) if chr(c) not in keep)
    return re.compile(f"[{re.escape(wide)}]+")


@dataclass
class FullwidthToHalfwidth(Normalizer):
    """Full-width ASCII forms (U+FF01-FF5E) to ASCII and the ideographic space U+3000 to a space.

    NFKC does this too; this step is for chains that run without NFKC (which also rewrites
    ligatures, superscripts and circled numbers). Keeps the Chinese punctuation in `keep`.
    """

    name: ClassVar[str] = "fullwidth_to_halfwidth"
    keep: str = CJK_FULLWIDTH_PUNCTUATION

    def normalize(self, text: str) -> str:
        if text.isascii():
            return text
        return _fullwidth_run(self.keep).sub(lambda m: m.group().translate(_FULLWIDTH_TO_ASCII), text)


# -------------------------------------------------------------------------------------- OpenCC

# Han and kana as code point ranges for stdlib `re` (the assigned part of \p{Han}; kana letters,
# without the middle dot U+30FB and the length mark U+30FC, which Chinese text also uses).
HAN_RANGES = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\U00020000-\U0003ffff"
)
KANA_RANGES = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff\uff66-\uff6f\uff71-\uff9d"
_HAN = re.compile(f"[{HAN_RANGES}]")
_KANA = re.compile(f"[{KANA_RANGES}]")


@functools.lru_cache(maxsize=None)
def _opencc_converter(config: str):
    """One OpenCC converter per config and process (loading reads its dictionaries)."""
    import opencc

    return opencc.OpenCC(config)


@dataclass
class TraditionalToSimplified(Normalizer):
    """Traditional to simplified Chinese with OpenCC (`config`: t2s, tw2s, hk2s, ...).

    The converter is created lazily, once per process, and is never part of the pickled state,
    so the step travels to Spark workers as two plain fields. Text without Han characters is
    returned as is; so is Japanese text (kana >= `max_kana_fraction` of its Han + kana characters).
    """

    name: ClassVar[str] = "traditional_to_simplified"
    config: str = "t2s"
    max_kana_fraction: float = 0.2

    def normalize(self, text: str) -> str:
        if text.isascii() or not _HAN.search(text):
            return text
        if _KANA.search(text):
            kana = len(_KANA.findall(text))
            if kana >= self.max_kana_fraction * (kana + len(_HAN.findall(text))):
                return text
        # OpenCC is not quite idempotent (t2s maps 薴 to 苧 and 苧 to 苎), so convert until stable.
        converter = _opencc_converter(self.config)
        for _ in range(3):
            converted = converter.convert(text)
            if converted == text:
                break
            text = converted
        return text


# ---------------------------------------------------------------------------------------- HTML

_BLOCK_ELEMENTS = (
    "address|article|aside|blockquote|body|br|caption|center|dd|details|dialog|dir|div|dl|dt|"
    "fieldset|figcaption|figure|footer|form|frameset|h[1-6]|head|header|hgroup|hr|html|legend|li|"
    "main|menu|nav|noframes|ol|option|p|pre|section|select|summary|table|tbody|textarea|tfoot|"
    "thead|title|tr|ul"
)
_INLINE_ELEMENTS = (
    "a|abbr|acronym|area|audio|b|base|basefont|bdi|bdo|big|blink|button|canvas|cite|code|col|"
    "colgroup|data|datalist|del|dfn|em|embed|font|frame|i|iframe|img|input|ins|kbd|label|link|map|"
    "mark|meta|meter|nobr|noscript|object|optgroup|output|param|picture|progress|q|rp|rt|ruby|s|"
    "samp|script|slot|small|source|span|strike|strong|style|sub|sup|svg|template|time|tt|u|var|"
    "video|wbr"
)
_TAG_REPLACEMENT = {
    **{name: "" for name in _INLINE_ELEMENTS.split("|")},
    **{name: "\n" for name in _BLOCK_ELEMENTS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|")},
    "td": " ",
    "th": " ",
}
# One pass over every tag-like '<name ...>' (attributes bounded so a stray '<' cannot scan far);
# the callback decides by name, which is ~3x faster than one regex per kind of tag.
_TAG = re.compile(r"</?([a-zA-Z][\w.:-]*)(?=[\s/>])[^<>]{0,2000}>")
# `a-b` or `ns:name`, not ending in '-' or ':' (so <https://example.org> is not an element).
_CUSTOM_ELEMENT = re.compile(r"[a-z][\w.]*(?:[-:][\w.]+)+")
_DECLARATION = re.compile(r"<[!?][a-zA-Z][^<>]{0,2000}>")  # <!DOCTYPE ...>, <?xml ...?>


def _tag_replacement(match: re.Match) -> str:
    name = match.group(1).lower()
    replacement = _TAG_REPLACEMENT.get(name)
    if replacement is None:  # custom (my-widget) and namespaced (o:p) elements go; `<String>` stays
        return "" if _CUSTOM_ELEMENT.fullmatch(name) else match.group()
    return replacement


# Elements removed with their content, and comments. Found by a linear scan (see _remove_blocks).
_BLOCK_OPEN = re.compile(r"<!--|<(script|style|noscript|template)(?=[\s/>])[^<>]{0,2000}>", re.IGNORECASE)
_BLOCK_CLOSE = {
    "!--": re.compile(r"--!?>"),
    **{n: re.compile(rf"</{n}\s*>", re.IGNORECASE) for n in ("script", "style", "noscript", "template")},
}
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescape(match: re.Match) -> str:
    return html.unescape(match.group())


def _remove_blocks(text: str) -> str:
    """Drop comments and script/style/noscript/template elements with their content, in linear time.

    An opener without a closer loses only itself; once a closer is missing after some point it is
    missing after every later point too, so each kind of closer is searched for at most once in vain.
    """
    parts, pos, unclosed = [], 0, set()
    while m := _BLOCK_OPEN.search(text, pos):
        kind = (m.group(1) or "!--").lower()
        close = None if kind in unclosed else _BLOCK_CLOSE[kind].search(text, m.end())
        parts.append(text[pos : m.start()])
        if close is None:
            unclosed.add(kind)
            pos = m.end()
        else:
            parts.append("" if kind == "!--" else "\n")
            pos = close.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


@dataclass
class HtmlStripper(Normalizer):
    """Strip HTML tags and decode entities with regexes (no parser): block tags become newlines,
    table cells spaces, other tags nothing; comments and script/style/noscript/template elements
    go with their content. Repeats until nothing changes (`max_rounds` bounds escaped escapes)."""

    name: ClassVar[str] = "strip_html"
    max_rounds: int = 8

    def normalize(self, text: str) -> str:
        for _ in range(self.max_rounds):
            if "<" not in text and "&" not in text:
                return text
            new = text
            if "<" in new:
                new = _TAG.sub(_tag_replacement, _remove_blocks(new))
                if "<!" in new or "<?" in new:
                    new = _DECLARATION.sub("", new)
            if "&" in new:
                new = _ENTITY.sub(_unescape, new)
            if new == text:
                return text
            text = new
        return text


# --------------------------------------------------------------------------------------- emoji

# An emoji: a default-emoji-presentation character, a pictograph outside the BMP, a text-style
# pictograph asking for emoji presentation (U+FE0F), or a keycap. Text-style symbols such as
# (c) (R) TM arrows and stars, which Extended_Pictographic also lists, are kept.
_EMOJI_CORE = (
    r"(?:\p{Emoji_Presentation}|(?=[\U0001F000-\U0001FFFF])\p{Extended_Pictographic}"
    r"|\p{Extended_Pictographic}(?=\ufe0f)|[0-9#*]\ufe0f?\u20e3)"
)
_EMOJI_TAIL = r"(?:[\p{Emoji_Modifier}\ufe0e\ufe0f\u20e3\U000e0020-\U000e007f]|\p{M})*"
_EMOJI = regex.compile(
    rf"{_EMOJI_CORE}{_EMOJI_TAIL}(?:\u200d(?:{_EMOJI_CORE}|\p{{Extended_Pictographic}}){_EMOJI_TAIL})*"
)


# Every character that can start an emoji (Extended_Pictographic, Emoji_Presentation, keycap
# marks), as ranges a fast stdlib search can look for before the slower property regex runs.
_EMOJI_CANDIDATE = re.compile(
    "[\u00a9\u00ae\u203c\u2049\u20e3\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2"
    "\u25aa-\u27bf\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001ffff]"
)


@dataclass
class EmojiRemover(Normalizer):
    """Remove emoji, including skin-tone modifiers, ZWJ sequences, flags and keycaps."""

    name: ClassVar[str] = "remove_emoji"

    def normalize(self, text: str) -> str:
        if text.isascii() or not _EMOJI_CANDIDATE.search(text):
            return text
        return _EMOJI.sub("", text)


# ---------------------------------------------------------------------------------- whitespace

# Whitespace other than ' ' and '\n' (str.isspace's set): tabs, \r, NBSP, U+3000, other spaces.
# A positive class: stdlib `re` scans it several times faster than the equivalent [^\S \n].
_ODD_SPACE = re.compile("[\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_MANY_NEWLINES = re.compile(r"\n{3,}")


@dataclass
class WhitespaceNormalizer(Normalizer):
    """One space between words, no space at line ends, at most one empty line (a paragraph break).

    Clean text costs a few substring tests and one rare-character search; text that needs work
    is rebuilt line by line with str.split/join, which beats a regex that stops at every space.
    """

    name: ClassVar[str] = "normalize_whitespace"

    def normalize(self, text: str) -> str:
        if _ODD_SPACE.search(text):
            text = _LINE_BREAKS.sub("\n", text).replace("\u2029", "\n\n")
            text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
        elif "  " in text or " \n" in text or "\n " in text:
            text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
        if "\n\n\n" in text:
            text = _MANY_NEWLINES.sub("\n\n", text)
        return text.strip()


# -------------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class Preprocessor:
    """Ziya2's preprocessing (DP) stage as one config: which steps run, and how long a segment may be.

    Order: controls -> NFKC -> full width -> emoji, then HTML, then OpenCC and whitespace.
    Controls go first because removing one can join a letter and a combining mark that NFKC must
    then compose. HTML entities can decode to anything (controls, full-width forms, emoji), so
    after HTML changes the text the first four steps run again until the HTML step has nothing left.
    """

    nfkc: bool = True
    fullwidth_to_halfwidth: bool = True  # only runs when nfkc is False: NFKC already folds full width
    traditional_to_simplified: bool = True
    opencc_config: str = "t2s"
    remove_control: bool = True
    remove_replacement_char: bool = False
    strip_html: bool = True
    normalize_whitespace: bool = True
    remove_emoji: bool = False
    max_segment_chars: PositiveInt | None = 100_000  # None: never split

    @cached_property
    def _chain(self) -> tuple[list[Normalizer], HtmlStripper | None, list[Normalizer]]:
        before: list[Normalizer] = []
        if self.remove_control:
            before.append(ControlCharRemover(self.remove_replacement_char))
        if self.nfkc:
            before.append(UnicodeNFKC())
        elif self.fullwidth_to_halfwidth:
            before.append(FullwidthToHalfwidth())
        if self.remove_emoji:
            before.append(EmojiRemover())
        after: list[Normalizer] = []
        if self.traditional_to_simplified:
            after.append(TraditionalToSimplified(self.opencc_config))
        if self.normalize_whitespace:
            after.append(WhitespaceNormalizer())
        return before, (HtmlStripper() if self.strip_html else None), after

    @property
    def steps(self) -> list[Normalizer]:
        """The steps in the order they run (the HTML loop aside), e.g. for timing each one."""
        before, strip, after = self._chain
        return before + ([strip] if strip else []) + after

    def normalize(self, text: str) -> str:
        before, strip, after = self._chain
        for step in before:
            text = step.normalize(text)
        if strip is not None:
            for _ in range(4):
                stripped = strip.normalize(text)
                if stripped == text:
                    break
                text = stripped
                for step in before:
                    text = step.normalize(text)
        for step in after:
            text = step.normalize(text)
        return text

    def split(self, doc_id: str, text: str) -> list[tuple[str, str]]:
        """Split a document longer than `max_segment_chars` into segments of at most that many
        characters, at paragraph breaks if possible, then line breaks, then sentence ends, then
        anywhere. A document that fits is returned unchanged under its own id; segments get ids
        `segment_id(doc_id, i)`, lose the whitespace at their edges and nothing else."""
        limit = self.max_segment_chars
        if limit is None or len(text) <= limit:
            return [(doc_id, text)]
        segments = [s for s in (s.strip() for s in _pack(_pieces(text, limit), limit)) if s]
        if len(segments) == 1:
            return [(doc_id, segments[0])]
        return [(segment_id(doc_id, i), s) for i, s in enumerate(segments)]


# ------------------------------------------------------------------------------------ splitting

# A sentence: text up to and including its closing punctuation and the whitespace after it.
_SENTENCE = re.compile(r"[^.!?。！？；…]*(?:[.!?。！？；…]+\s*|$)")
# Characters that continue the preceding one: a hard cut before them would split a character.
_CONTINUATION = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
                           "\u200c\u200d\ufe00-\ufe0f\ufe20-\ufe2f\U0001f3fb-\U0001f3ff\U000e0000-\U000e01ef]")


def _pieces(text: str, limit: int, level: int = 0, sep: str = ""):
    """Yield (separator, piece) pairs, each piece at most `limit` chars, such that joining
    separator + piece over all pairs gives back `text`. Each level splits only the parts that
    are still too long, so every character is visited a bounded number of times."""
    if len(text) <= limit:
        yield sep, text
        return
    if level == 0:
        parts, joiner = text.split("\n\n"), "\n\n"
    elif level == 1:
        parts, joiner = text.split("\n"), "\n"
    elif level == 2:
        parts, joiner = [s for s in _SENTENCE.findall(text) if s], ""
    else:
        yield from _hard_cuts(text, limit, sep)
        return
    for i, part in enumerate(parts):
        yield from _pieces(part, limit, level + 1, sep if i == 0 else joiner)


def _hard_cuts(text: str, limit: int, sep: str):
    """Cut every `limit` chars, moved back (at most 32 chars) so that a combining mark, variation
    selector, skin tone or ZWJ-joined emoji stays with the character it belongs to."""

    def inside_character(i: int) -> bool:
        return bool(_CONTINUATION.match(text, i)) or text[i - 1] == "\u200d"

    start = 0
    while start < len(text):
        end = cut = min(start + limit, len(text))
        while start + 1 < cut < len(text) and end - cut < 32 and inside_character(cut):
            cut -= 1
        if cut < len(text) and inside_character(cut):
            cut = end  # no boundary within reach: cut anyway
        yield (sep if start == 0 else ""), text[start:cut]
        start = cut


def _pack(pieces, limit: int) -> list[str]:
    """Greedily fill segments of at most `limit` chars with consecutive pieces."""
    segments, current, size = [], [], 0
    for sep, piece in pieces:
        if current and size + len(sep) + len(piece) <= limit:
            current += (sep, piece)
            size += len(sep) + len(piece)
        else:
            if current:
                segments.append("".join(current))
            current, size = [piece], len(piece)
    if current:
        segments.append("".join(current))
    return segments
