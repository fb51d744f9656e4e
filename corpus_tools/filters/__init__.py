"""Rule registry: every document and line filter by name, and the chain that applies them.

    doc_filters, line_filters = build_filters({"gopher_quality": {"min_stop_words": None},
                                               "c4_unterminated_lines": None})
    result = apply_filters(Doc(id, text, lang), doc_filters, line_filters)

Document filters run first, in registry order, and the first failing reason is the one
reported (Ziya2 filters at document level, then paragraph and sentence level); line filters
then remove lines from the documents that stay, in registry order, each counting what it
removed. The specific boilerplate rules come before C4's generic line rules, so a menu line
is counted as navigation rather than as a line without punctuation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from corpus_tools import config as config_lib
from corpus_tools.filters.base import DocumentFilter, LineFilter
from corpus_tools.filters.basic import CharacterQuality, DocumentLength
from corpus_tools.filters.c4 import (
    C4JavascriptLines,
    C4LongWordLines,
    C4PolicyLines,
    C4Quality,
    C4ShortLines,
    C4UnterminatedLines,
)
from corpus_tools.filters.chinese import ChineseQuality
from corpus_tools.filters.fineweb import FineWebQuality
from corpus_tools.filters.gopher import GopherQuality, GopherRepetition
from corpus_tools.filters.keywords import KeywordDensity
from corpus_tools.filters.lines import (
    CookieBannerLines,
    CopyrightLines,
    NavigationLines,
    ReadMoreLines,
    RepeatedCharLines,
    ShareButtonLines,
    UrlLines,
)
from corpus_tools.text import Doc

# Cheap, decisive rules first; repetition before quality, as DataTrove and FineWeb order them.
DOCUMENT_FILTERS: dict[str, type[DocumentFilter]] = {
    f.name: f
    for f in (
        DocumentLength,
        CharacterQuality,
        ChineseQuality,
        KeywordDensity,
        GopherRepetition,
        GopherQuality,
        C4Quality,
        FineWebQuality,
    )
}
LINE_FILTERS: dict[str, type[LineFilter]] = {
    f.name: f
    for f in (
        NavigationLines,
        CookieBannerLines,
        CopyrightLines,
        ReadMoreLines,
        ShareButtonLines,
        UrlLines,
        RepeatedCharLines,
        C4LongWordLines,
        C4JavascriptLines,
        C4PolicyLines,
        C4UnterminatedLines,
        C4ShortLines,
    )
}
# Reported when the line filters leave nothing but blank lines.
ALL_LINES_REMOVED = "all_lines_removed"


def all_reasons() -> list[str]:
    """Every drop reason the default chain can report, in chain order."""
    return [r for f in DOCUMENT_FILTERS.values() for r in f.reasons] + [ALL_LINES_REMOVED]


def build_filters(config: dict[str, dict | None] | None = None,
                  where: str = "config.filters") -> tuple[list[DocumentFilter], list[LineFilter]]:
    """Instantiate every registered filter, in registry order, with `config`'s overrides.

    `config` maps a filter name to its parameter overrides; None or False drops the whole
    filter (a parameter set to None disables one rule). Unknown names, unknown parameters and
    values that do not fit a parameter's type or range raise ConfigError naming
    `where.<filter>.<parameter>`.
    """
    config = dict(config or {})
    unknown = set(config) - set(DOCUMENT_FILTERS) - set(LINE_FILTERS)
    if unknown:
        known = ", ".join([*DOCUMENT_FILTERS, *LINE_FILTERS])
        raise config_lib.ConfigError(f"{where}: unknown filter(s) {sorted(unknown)}; known filters: {known}")
    built: dict[str, list] = {"doc": [], "line": []}
    for kind, registry in (("doc", DOCUMENT_FILTERS), ("line", LINE_FILTERS)):
        for name, cls in registry.items():
            overrides = config.get(name, {})
            if overrides is None or overrides is False:
                continue
            if overrides is True:
                overrides = {}
            if not isinstance(overrides, dict):
                raise config_lib.ConfigError(f"{where}.{name} = {overrides!r}: expected a dict of parameters, "
                                             "true, false or null")
            built[kind].append(config_lib.load(cls, overrides, f"{where}.{name}"))
    return built["doc"], built["line"]


@dataclass
class FilterResult:
    """What the chain did to one document."""

    reason: str | None  # the drop reason, or None when the document is kept
    text: str  # the text after line removal (the input text when dropped)
    removed_chars: dict[str, int] = field(default_factory=dict)  # line filter name -> characters removed


def apply_filters(doc: Doc, doc_filters: list[DocumentFilter], line_filters: list[LineFilter]) -> FilterResult:
    """Run the document filters (first failing reason wins), then the line filters."""
    for f in doc_filters:
        reason = f.check(doc)
        if reason is not None:
            return FilterResult(reason, doc.text)
    lines, removed = doc.lines, {}
    for f in line_filters:
        lines, n = f.filter_lines(lines, doc)
        if n:
            removed[f.name] = n
    if not removed:
        return FilterResult(None, doc.text)
    text = "\n".join(lines)
    if not text.strip():
        return FilterResult(ALL_LINES_REMOVED, doc.text, removed)
    return FilterResult(None, text, removed)
