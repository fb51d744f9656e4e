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
    """A rule that removes lines from a document instead of dropping it."""

    name: ClassVar[str]

    def drops_line(self, line: str, doc: Doc) -> bool:
        raise NotImplementedError

    def apply(self, doc: Doc) -> tuple[str, int]:
        """Return the text without the dropped lines and how many characters were removed."""
        kept, removed = [], 0
        for line in doc.lines:
            if line.strip() and self.drops_line(line, doc):
                removed += len(line) + 1
            else:
                kept.append(line)
        if not removed:
            return doc.text, 0
        return "\n".join(kept), removed

    @classmethod
    def params(cls) -> list[str]:
        return [f.name for f in fields(cls)]
