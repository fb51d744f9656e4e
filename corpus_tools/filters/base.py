"""Base classes for rules: one class per kind of rule, one method to implement.

- `DocumentFilter.check(doc) -> str | None`: return a drop reason to drop the whole
  document, or None to keep it. Record measurements in `doc.signals`.
- `LineFilter.drops_line(line, doc) -> bool`: paragraph- and sentence-level rules that
  remove lines (navigation, cookie banners, "read more"...) rather than documents. The
  base class rebuilds the text and counts the characters each rule removed.

Thresholds are dataclass fields whose defaults are the published values (cited in each
class's docstring); a field set to None disables that rule. Drop reasons are stable
snake_case names that say what failed, e.g. `gopher_too_few_stop_words`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from corpus_tools.text import Doc


@dataclass
class DocumentFilter:
    """A document-level rule (or a family of related rules sharing computations)."""

    name: ClassVar[str]  # the config key, e.g. "gopher_quality"
    reasons: ClassVar[tuple[str, ...]]  # every drop reason `check` can return

    def check(self, doc: Doc) -> str | None:
        raise NotImplementedError

    @classmethod
    def params(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class LineFilter:
    """A rule that removes lines from a document instead of dropping it.

    Subclasses implement `drops_line`. They may also override `may_drop(doc)`, a cheap
    whole-text test (one regex or substring search in C) that says no line of this document
    can match, so most documents skip the per-line loop.
    """

    name: ClassVar[str]

    def drops_line(self, line: str, doc: Doc) -> bool:
        raise NotImplementedError

    def may_drop(self, doc: Doc) -> bool:
        return True

    def filter_lines(self, lines: list[str], doc: Doc) -> tuple[list[str], int]:
        """Keep the lines this rule does not drop; count the removed characters (newline included).

        `lines` may already be a subset of `doc.lines` (rules run in a chain); `doc` is the
        original document, for document-level context such as `doc.is_cjk`.
        """
        if not self.may_drop(doc):
            return lines, 0
        kept, removed = [], 0
        for line in lines:
            if line.strip() and self.drops_line(line, doc):
                removed += len(line) + 1
            else:
                kept.append(line)
        return (kept, removed) if removed else (lines, 0)

    def apply(self, doc: Doc) -> tuple[str, int]:
        """Return the text without the dropped lines and how many characters were removed."""
        kept, removed = self.filter_lines(doc.lines, doc)
        if not removed:
            return doc.text, 0
        text = "\n".join(kept)
        return text, len(doc.text) - len(text)

    @classmethod
    def params(cls) -> list[str]:
        return [f.name for f in fields(cls)]
