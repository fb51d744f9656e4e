"""Domain and URL block lists: drop documents whose URL a user-supplied list names.

    ziya clean --input raw/ --output out/clean --url-blocklist ut1/ --url-blocklist spam.txt

A list is a text file (or `.gz`), one entry a line; blank lines and `#` comments are ignored:

- a domain, `example.com`, blocks that host and every subdomain (`a.b.example.com`), not
  `notexample.com`; a leading `*.` means the same. An IP address blocks that address only.
- a URL prefix, `example.com/ads/`, blocks the paths under it on that host only (not its
  subdomains); `example.com/ads` blocks `/ads`, `/ads/x` and `/ads?p=1`, not `/adsense`;
  `example.com/` blocks the whole host but not its subdomains. A `*` in the path matches any
  run of characters (`example.com/*/banner`). Paths keep their case, as servers do.
- a scheme, a port and userinfo are ignored (`https://user@Example.com:8080/ads/` is
  `example.com/ads/`); hosts are lowercased and lose a trailing dot and one `www.`, `m.` or
  `wap.` mirror prefix, as `corpus_tools.urls.normalize_host` does for URL dedup (so the entry
  `www.example.com` blocks the whole site, the way a URL key already folds its mirrors).

Each entry has a category, and a document it blocks is rejected as `url_blocked_<category>`. A
plain file's category is its stem (`spam.txt` -> `url_blocked_spam`); a directory is read in the
layout of the UT1 blacklists (Université Toulouse 1 Capitole, https://dsi.ut-capitole.fr/blacklists/):
one folder per category holding `domains` and/or `urls` (`adult/domains` -> `url_blocked_adult`);
other files there (`usage`, `expressions`, READMEs) are not lists and are skipped. A URL that two
entries block gets the most specific one's category: a URL prefix, then the longest domain, then
the list given first.

Matching costs a few set probes per URL, never a pattern per entry: the URL's host is cut into its
label suffixes (`a.b.example.com`, `b.example.com`, `example.com`, `com`) and each is looked up.
Domains are kept as a sorted array of 64-bit string hashes and their categories (10 bytes a domain,
so the 4.6M domains of UT1's `adult` take ~46 MB per process, where a set of the strings would take
~500 MB) and a batch of URLs is probed with one vectorized search (benchmarks/bench_blocklist.py: 1M
domains load in ~1.2 s; ~290k URLs/s on one core). Hashes are Python's, which differ between
processes, so a Blocklist is built in the process that uses it (`load_blocklists` caches one per
process, keyed by the files' paths, sizes and modification times) and refuses to be pickled. A name
that is not listed but shares a 64-bit hash with one that is would be blocked: ~1e-6 expected such
URLs per million against 5M domains.

    >>> bl = Blocklist.from_entries({"adult": ["example.com", "news.site.org/ads/"], "gambling": ["casino.cc", "top"]})
    >>> bl.category("https://www.Shop.Example.COM:8080/x?y=1")
    'adult'
    >>> [bl.category(u) for u in ("http://notexample.com/", "news.site.org/ads/x", "news.site.org/adsense", None)]
    [None, 'adult', None, None]
    >>> bl.drop_reasons(["http://casino.cc", "http://sub.news.site.org/ads/x", "bet365.top"])
    ['url_blocked_gambling', None, 'url_blocked_gambling']
"""
from __future__ import annotations

import array
import functools
import gzip
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from corpus_tools import storage
from corpus_tools.config import ConfigError
from corpus_tools.urls import normalize_host

REASON_PREFIX = "url_blocked_"
UT1_LISTS = ("domains", "urls")  # the list files of a UT1 category folder
# What may follow a URL-prefix entry that does not end in a separator: `example.com/ads` blocks
# `/ads/x` and `/ads?p=1`, not `/adsense`.
_BOUNDARY = "/?&;="

# [scheme://] or [//], then the authority (userinfo, host, port), then path and query (no fragment)
_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://|//)?([^/?#]*)([^#]*)")
_CATEGORY = re.compile(r"[^a-z0-9]+")
_BARE_DOMAIN = re.compile(r"[A-Za-z0-9_.\-]+")  # most lines of a domain list: no scheme, path, port or comment


class BlocklistError(ConfigError):
    """A block list that cannot be used: a directory without lists, an entry that is not a domain
    or URL. The message names the file (and line)."""


def host_and_path(url: str | None) -> tuple[str, str] | None:
    """(normalized host, path + query) of a URL, or None when it has no host. Cheaper than
    `urlsplit` (which costs 5x as much) and as lenient: a URL without a scheme is `host/path`.

    >>> host_and_path("HTTPS://user:pw@www.Example.com.:8080/a/b?q=1#top")
    ('example.com', '/a/b?q=1')
    >>> host_and_path("[2001:DB8::1]:443/x"), host_and_path("example.com?a"), host_and_path(" ")
    (('2001:db8::1', '/x'), ('example.com', '/?a'), None)
    """
    if not url:
        return None
    authority, path = _URL.match(url.strip()).groups()
    host = authority.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 literal: [::1]:8080
        host = host[1:host.find("]")] if "]" in host else host[1:]
    else:
        host = host.partition(":")[0]
    host = host.lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        host = _ascii_host(host)
    if not path.startswith("/"):
        path = "/" + path
    return normalize_host(host), path


def _ascii_host(host: str) -> str:
    """A Unicode host as lists write it (IDNA punycode, `例子.中国` -> `xn--fsqu00a.xn--fiqs8s`)."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def host_suffixes(host: str) -> list[str]:
    """The names a domain entry may block `host` by, most specific first; an IP address only itself.

    >>> host_suffixes("a.b.example.com"), host_suffixes("10.0.0.1")
    (['a.b.example.com', 'b.example.com', 'example.com', 'com'], ['10.0.0.1'])
    """
    if ":" in host or host[-1].isdigit() and host.rpartition(".")[2].isdigit():  # IPv6, IPv4 (no TLD is numeric)
        return [host]
    names, dot = [host], host.find(".")
    while dot >= 0:
        names.append(host[dot + 1:])
        dot = host.find(".", dot + 1)
    return names


def category_name(name: str) -> str:
    """A list's name as the snake_case tail of a drop reason (`Remote-Control` -> `remote_control`)."""
    return _CATEGORY.sub("_", name.lower()).strip("_") or "blocklist"


@dataclass(frozen=True)
class _Prefix:
    """A URL-prefix entry of one host: a literal prefix, or a pattern when it has a `*`."""

    path: str
    pattern: re.Pattern | None
    category: int

    def matches(self, path: str) -> bool:
        if self.pattern is not None:
            return self.pattern.match(path) is not None
        if not path.startswith(self.path):
            return False
        return len(path) == len(self.path) or self.path[-1] in _BOUNDARY or path[len(self.path)] in _BOUNDARY


class Blocklist:
    """Domains (as sorted hashes) and URL prefixes (by exact host), each with a category."""

    def __init__(self, categories: list[str], hashes, hash_categories, prefixes: dict[str, list[_Prefix]],
                 counts: dict[str, Counter]):
        self.categories = categories
        self.reasons = [REASON_PREFIX + c for c in categories]
        keys = np.frombuffer(hashes, dtype=np.int64) if len(hashes) else np.zeros(0, np.int64)
        cats = np.frombuffer(hash_categories, dtype=np.uint16) if len(hash_categories) else np.zeros(0, np.uint16)
        order = np.lexsort((cats, keys))  # by hash, then by the list given first
        keys, cats = keys[order], cats[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]  # a domain in two lists keeps the first list's category
        self._keys, self._cats = keys[first], cats[first]
        self._prefixes = prefixes
        self.counts = counts  # category -> Counter(domains=..., urls=...), entries as read (before dedup)

    @classmethod
    def from_entries(cls, lists: dict[str, Iterable[str]]) -> "Blocklist":
        """A Blocklist from entries by category, as if each were a file (no comments needed)."""
        builder = _Builder()
        for category, lines in lists.items():
            builder.add_lines(lines, category, f"<{category}>")
        return builder.build()

    @property
    def domains(self) -> int:
        """Distinct domain entries."""
        return len(self._keys)

    @property
    def nbytes(self) -> int:
        """Memory held by the domain arrays (the prefixes are few and small)."""
        return self._keys.nbytes + self._cats.nbytes

    def category(self, url: str | None) -> str | None:
        """The category that blocks `url`, or None (also for a missing URL)."""
        return self.categories_of([url])[0]

    def drop_reasons(self, urls: Sequence[str | None]) -> list[str | None]:
        """`url_blocked_<category>` for each blocked URL, None for the others."""
        return [None if c is None else self.reasons[c] for c in self._category_ids(urls)]

    def categories_of(self, urls: Sequence[str | None]) -> list[str | None]:
        return [None if c is None else self.categories[c] for c in self._category_ids(urls)]

    def _category_ids(self, urls: Sequence[str | None]) -> list[int | None]:
        found: list[int | None] = [None] * len(urls)
        probes, owners = array.array("q"), array.array("q")  # one suffix hash per entry, the URL's index
        prefixes = self._prefixes
        for i, url in enumerate(urls):
            parsed = host_and_path(url)
            if parsed is None:
                continue
            host, path = parsed
            if prefixes and host in prefixes:
                hit = next((p.category for p in prefixes[host] if p.matches(path)), None)
                if hit is not None:
                    found[i] = hit
                    continue
            for name in host_suffixes(host):
                probes.append(hash(name))
                owners.append(i)
        if not len(probes) or not len(self._keys):
            return found
        probe = np.frombuffer(probes, dtype=np.int64)
        at = np.searchsorted(self._keys, probe)
        at[at == len(self._keys)] = 0
        hits = np.flatnonzero(self._keys[at] == probe)
        owner, cats = np.frombuffer(owners, dtype=np.int64)[hits].tolist(), self._cats[at[hits]].tolist()
        for i, c in zip(owner, cats):  # suffixes went in most specific first: keep the first hit
            if found[i] is None:
                found[i] = c
        return found

    def summary(self) -> dict:
        """Entries read per category, for logs and stats.json."""
        return {"domains": self.domains, "url_prefixes": sum(len(v) for v in self._prefixes.values()),
                "categories": {c: dict(self.counts[c]) for c in self.categories}}

    def __reduce__(self):
        raise TypeError("a Blocklist holds this process's string hashes and cannot be pickled; build it where "
                        "it is used, with load_blocklists(paths)")


class _Builder:
    """Collects entries file by file; `build` freezes them into a Blocklist."""

    def __init__(self):
        self.categories: list[str] = []
        self.hashes, self.hash_categories = array.array("q"), array.array("H")
        self.prefixes: dict[str, list[_Prefix]] = {}
        self.counts: dict[str, Counter] = {}

    def category_id(self, name: str) -> int:
        name = category_name(name)
        if name not in self.counts:
            self.categories.append(name)
            self.counts[name] = Counter(domains=0, url_prefixes=0)
        return self.categories.index(name)

    def add_lines(self, lines: Iterable[str], category: str, where: str) -> None:
        cat = self.category_id(category)
        counts = self.counts[self.categories[cat]]
        hashes, before = self.hashes, len(self.hashes)
        for number, line in enumerate(lines, 1):
            entry = line.strip()
            if not entry or entry[0] == "#":
                continue
            if _BARE_DOMAIN.fullmatch(entry):  # the common case, kept cheap: millions of lines load in seconds
                hashes.append(hash(normalize_host(entry.lower().strip("."))))
                continue
            host, path = _parse_entry(entry, f"{where}:{number}")
            if path is None:
                hashes.append(hash(host))
            else:
                self.prefixes.setdefault(host, []).append(_prefix(path, cat))
                counts["url_prefixes"] += 1
        added = len(self.hashes) - before
        self.hash_categories.extend([cat] * added)
        counts["domains"] += added

    def build(self) -> Blocklist:
        for entries in self.prefixes.values():  # longest first: the most specific prefix names the category
            entries.sort(key=lambda p: -len(p.path))
        return Blocklist(self.categories, self.hashes, self.hash_categories, self.prefixes, self.counts)


def _parse_entry(entry: str, where: str) -> tuple[str, str | None]:
    """(host, path or None) of an entry that is not a bare domain."""
    if " #" in entry or "\t#" in entry:  # a trailing comment
        entry = re.split(r"\s#", entry, maxsplit=1)[0].rstrip()
    if any(c.isspace() for c in entry):
        raise BlocklistError(f"{where}: expected one domain or URL per line, got {entry!r}")
    if entry.count(":") >= 2 and "[" not in entry and "/" not in entry:  # a bare IPv6 address
        return entry.lower(), None
    parsed = host_and_path(entry)
    if parsed is None:
        raise BlocklistError(f"{where}: no host in {entry!r}")
    host, path = parsed
    if host.startswith("*."):
        host = normalize_host(host[2:])
        if path == "/" and not entry.rstrip().endswith("/"):
            return host, None
        raise BlocklistError(f"{where}: a leading '*.' is allowed on a domain entry only, got {entry!r}")
    if "*" in host:
        raise BlocklistError(f"{where}: '*' is allowed in a URL's path or as a leading '*.', got {entry!r}")
    has_path = "/" in entry.split("://", 1)[-1] or "?" in entry
    return host, (path if has_path else None)


def _prefix(path: str, category: int) -> _Prefix:
    if "*" not in path:
        return _Prefix(path, None, category)
    body = ".*".join(map(re.escape, path.split("*")))
    open_end = path[-1] in _BOUNDARY or path[-1] == "*"
    return _Prefix(path, re.compile(body if open_end else body + f"(?:[{re.escape(_BOUNDARY)}]|$)"), category)


# ---------------------------------------------------------------- files

def blocklist_files(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(file, category) of every list the paths name: files, and UT1-layout directories. A missing
    path raises FileNotFoundError naming it; a directory with no lists, BlocklistError."""
    found = []
    for path in paths:
        path = storage.resolve(path)
        if storage.is_file(path):
            found.append((path, _file_category(path)))
        elif storage.is_dir(path):
            lists = [(f, storage.basename(storage.parent(f))) for f, _ in storage.list_files(path)
                     if _list_name(storage.basename(f)) in UT1_LISTS and storage.parent(f) != path]
            if not lists:
                raise BlocklistError(f"{path}: no block lists in this directory (expected the UT1 layout, "
                                     "<category>/domains and <category>/urls)")
            found.extend(lists)
        else:
            raise FileNotFoundError(f"url blocklist does not exist: {path}")
    return found


def _list_name(name: str) -> str:
    return name[:-3] if name.endswith(".gz") else name


def _file_category(path: str) -> str:
    """`spam.txt` -> spam; a UT1 list given by itself (`adult/domains`) -> its folder's name."""
    name = _list_name(storage.basename(path))
    if name in UT1_LISTS:
        return storage.basename(storage.parent(path))
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def read_lines(path: str) -> list[str]:
    data = storage.read_bytes(path)
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").splitlines()


def load_blocklists(paths: Sequence[str]) -> Blocklist:
    """The Blocklist of `paths` (files or UT1 directories, local or on a store), built once per
    process for the same files: tasks of one Spark worker share it."""
    files = blocklist_files(paths)
    stamps = []
    for path, category in files:
        info = storage.info(path)
        stamps.append((path, category, info.size, info.mtime_ns))
    return _cached(tuple(stamps))


@functools.lru_cache(maxsize=4)
def _cached(stamps: tuple) -> Blocklist:
    builder = _Builder()
    for path, category, _, _ in stamps:
        builder.add_lines(read_lines(path), category, path)
    return builder.build()
