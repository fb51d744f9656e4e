"""URL normalization for exact URL dedup: two URLs with the same key name the same page.

Ziya2 removes duplicates by URL before it compares contents. Crawls spell one page many ways,
so the key folds the spellings that (almost) never change what a server returns, and nothing
that often does:

- scheme: `http` and `https` give the same key (sites serve one page on both; crawls mix them).
  Other schemes (`ftp`) stay in the key.
- host: lowercased, trailing dot dropped, one `www.`, `m.` or `wap.` prefix dropped (mobile and
  `www` mirrors of one site; `wap.` is common on Chinese sites), but only when a registered-looking
  name remains (`m.cn` stays `m.cn`). Userinfo (`user:pw@`) is dropped.
- port: the default ports 80 and 443 are dropped (the scheme is not in the key); others stay.
- path: dot segments resolved (`/a/./b/../c` -> `/a/c`), percent escapes of unreserved
  characters decoded and the rest uppercased (RFC 3986 6.2.2), trailing slash dropped
  (`/news/` = `/news`, and an empty path = `/`). The path keeps its case: servers differ.
- query: tracking parameters dropped (`utm_*` and the ad/click ids in `TRACKING_PARAMS`), the rest
  sorted by name (order never selects a different page in practice), blank values kept.
- fragment: dropped (never sent to the server), except a `#!` hashbang, which old AJAX sites
  used as the address of the content.

    >>> url_key("HTTPS://www.Example.com:443/news/?utm_source=x&b=2&a=1#top")
    'example.com/news?a=1&b=2'
    >>> url_key("http://example.com/news?b=2&a=1") == url_key("https://m.example.com/news/?a=1&b=2&fbclid=9")
    True
    >>> url_key("  ") is None
    True
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

HOST_PREFIXES = ("www.", "m.", "wap.")
DEFAULT_PORTS = {80, 443}
TRACKING_PREFIXES = ("utm_",)
# Click ids and analytics parameters added by ad networks, mail tools and share buttons; they
# identify the visitor or campaign, never the page. `spm` is Alibaba's (Taobao, Tmall, Youku).
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
     "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "spm", "scm"}
)
WEB_SCHEMES = ("http", "https")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def url_key(url: str | None) -> str | None:
    """The dedup key of `url`; None for a missing or blank URL. A string that does not parse as a
    URL is its own key (stripped), so it still matches identical spellings."""
    if url is None:
        return None
    url = url.strip()
    if not url:
        return None
    if "://" not in url and not url.startswith("//"):
        url = "//" + url  # "example.com/a": a host without a scheme
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port, an unbalanced IPv6 bracket
        return url
    scheme = parts.scheme.lower()
    host = normalize_host(parts.hostname or "")
    if port is not None and port not in DEFAULT_PORTS:
        host = f"{host}:{port}"
    key = host if scheme in WEB_SCHEMES or not scheme else f"{scheme}://{host}"
    key += normalize_path(parts.path)
    query = normalize_query(parts.query)
    if query:
        key += "?" + query
    if parts.fragment.startswith("!"):
        key += "#" + parts.fragment
    return key


def normalize_host(host: str) -> str:
    """Lowercased, without a trailing dot or one mirror prefix.

    >>> normalize_host("WWW.Example.COM.")
    'example.com'
    >>> normalize_host("m.cn")
    'm.cn'
    """
    host = host.lower().rstrip(".")
    for prefix in HOST_PREFIXES:
        rest = host[len(prefix):]
        if host.startswith(prefix) and "." in rest:
            return rest
    return host


def normalize_path(path: str) -> str:
    """Dot segments resolved, escapes normalized, no trailing slash; "/" when empty.

    >>> normalize_path("/a/./b/../c/")
    '/a/c'
    >>> normalize_path("/%7euser/%e4%b8%ad")
    '/~user/%E4%B8%AD'
    """
    path = _ESCAPE.sub(_normalize_escape, path)
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment not in (".", ""):
            out.append(segment)
    return "/" + "/".join(out)


def _normalize_escape(match: re.Match) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalize_query(query: str) -> str:
    """Tracking parameters dropped, the rest sorted.

    >>> normalize_query("b=2&utm_medium=mail&a=&gclid=1")
    'a=&b=2'
    """
    if not query:
        return ""
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_param(k)]
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params))


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
