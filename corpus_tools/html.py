"""HTML pages -> main text: decode the bytes to Unicode, then extract the main content, one
paragraph a line (so the paragraph-level rules and paragraph language shares keep working).

Decoding follows what browsers do, with one fix for what crawls show (Chinese pages above all):
1. a byte-order mark decides;
2. else the HTTP header's charset, else a `<meta charset>` / `http-equiv` in the first 4 kB;
   labels are mapped to the codec browsers use for them (WHATWG): `gb2312`/`gbk` -> gb18030,
   `iso-8859-1`/`ascii` -> windows-1252, `big5` -> big5hkscs, `shift_jis` -> cp932, ...;
3. else detection: UTF-8 when the bytes are valid UTF-8 (text in another encoding almost never is),
   else uchardet through resiliparse (GBK/GB18030, Big5, Shift-JIS, windows-1252, ...).
A declared charset that does not decode the page strictly (a page labelled iso-8859-1 or gbk that
is really UTF-8, a common mistake) gives way to UTF-8 when that decodes, else to detection; the last
resort decodes with replacement characters, which `ziya clean`'s rules then see and count.

    >>> page = "<html><head><title>T</title></head><body><p>第一段。</p><p>第二段。</p></body></html>"
    >>> decode_html(page.encode("gbk"), "gbk")
    ('<html><head><title>T</title></head><body><p>第一段。</p><p>第二段。</p></body></html>', 'gb18030', 'header')
"""
from __future__ import annotations

import codecs
import re
from typing import Literal

Extractor = Literal["resiliparse", "trafilatura"]

# Labels whose codec is a superset in browsers (WHATWG Encoding, "names and labels").
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "x-gbk": "gb18030",
              "iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "cp1252": "cp1252",
              "big5": "big5hkscs", "big5hkscs": "big5hkscs", "cp950": "big5hkscs",
              "shift_jis": "cp932", "cp932": "cp932", "euc_kr": "cp949", "cp949": "cp949",
              "iso8859-9": "cp1254", "tis-620": "cp874", "iso8859-11": "cp874"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
META_SCAN_BYTES = 4096


def codec_for(label: str | None) -> str | None:
    """The Python codec browsers decode `label` with, or None for an unknown label."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def meta_charset(data: bytes) -> str | None:
    match = _META.search(data[:META_SCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def decode_html(data: bytes, header_charset: str | None = None) -> tuple[str, str, str]:
    """(text, codec, how it was chosen: "bom" | "header" | "meta" | "detected" | ...)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace"), codec, "bom"
    for how, label in (("header", header_charset), ("meta", meta_charset(data))):
        codec = codec_for(label)
        if codec is None:
            continue
        try:
            return data.decode(codec), codec, how
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("utf-8"), "utf-8", f"{how}_wrong_utf8"
        except UnicodeDecodeError:
            break  # the declaration is wrong and the page is not UTF-8: detect
    try:
        return data.decode("utf-8"), "utf-8", "detected"
    except UnicodeDecodeError:
        pass
    from resiliparse.parse.encoding import detect_encoding

    codec = codec_for(detect_encoding(data)) or "utf-8"
    return data.decode(codec, errors="replace"), codec, "detected"


def extract_text(html: str, extractor: Extractor = "resiliparse") -> str:
    """The page's main content as plain text, one paragraph a line ("" when there is none)."""
    if extractor == "trafilatura":
        import trafilatura

        text = trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False) or ""
    else:
        from resiliparse.extract.html2text import extract_plain_text

        text = extract_plain_text(html, preserve_formatting=True, main_content=True, list_bullets=False,
                                  alt_texts=False, links=False, form_fields=False, noscript=False, comments=False)
    return paragraph_lines(text)


def paragraph_lines(text: str) -> str:
    """`text` one paragraph a line: lines stripped, blank lines dropped."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
