"""URL keys: each folded spelling gives the same key, and what can change the page does not."""
from __future__ import annotations

import doctest

import pytest

from corpus_tools import urls
from corpus_tools.urls import url_key


def test_doctests():
    assert doctest.testmod(urls).failed == 0


@pytest.mark.parametrize("a, b", [
    ("http://example.com/a", "https://example.com/a"),  # scheme
    ("http://EXAMPLE.com/a", "http://example.com./a"),  # host case, trailing dot
    ("http://www.example.com/a", "http://example.com/a"),  # www mirror
    ("http://m.example.com/a", "http://wap.example.com/a"),  # mobile mirrors
    ("http://example.com:80/a", "https://example.com:443/a"),  # default ports
    ("http://user:pw@example.com/a", "http://example.com/a"),  # userinfo
    ("http://example.com/a#section-2", "http://example.com/a"),  # fragment
    ("http://example.com/a/", "http://example.com/a"),  # trailing slash
    ("http://example.com", "http://example.com/"),  # empty path
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),  # dot segments
    ("http://example.com/%7Euser", "http://example.com/~user"),  # unreserved escape
    ("http://example.com/%e4%b8%ad", "http://example.com/%E4%B8%AD"),  # escape case
    ("http://example.com/a?utm_source=x&utm_campaign=y", "http://example.com/a"),  # utm_*
    ("http://example.com/a?id=1&fbclid=abc&gclid=d&spm=a1.b2", "http://example.com/a?id=1"),  # click ids
    ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),  # parameter order
    ("example.com/a", "http://example.com/a"),  # no scheme
    ("  http://example.com/a \n", "http://example.com/a"),  # surrounding space
])
def test_spellings_of_one_page_share_a_key(a, b):
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize("a, b", [
    ("http://example.com/a", "http://example.com/A"),  # path case can matter
    ("http://example.com/a?id=1", "http://example.com/a?id=2"),  # real parameters
    ("http://example.com/a?id=1", "http://example.com/a"),
    ("http://example.com:8080/a", "http://example.com/a"),  # a non-default port
    ("http://example.com/a", "http://example.org/a"),
    ("http://news.example.com/a", "http://example.com/a"),  # only mirror prefixes fold
    ("https://example.com/#!/post/1", "https://example.com/#!/post/2"),  # hashbang addresses content
    ("ftp://example.com/a", "http://example.com/a"),  # other schemes stay apart
    ("http://m.cn/a", "http://cn/a"),  # a prefix is kept when no domain would remain
])
def test_different_pages_keep_different_keys(a, b):
    assert url_key(a) != url_key(b)


def test_missing_and_unparseable_urls():
    assert url_key(None) is None and url_key("") is None and url_key("   ") is None
    assert url_key("http://example.com:notaport/a") == "http://example.com:notaport/a"
    assert url_key("http://[::1/a") == url_key("http://[::1/a")


def test_key_is_idempotent():
    for url in ("https://www.Example.com:443/a/b/?utm_x=1&z=1&a=2#f", "http://example.com:8080/%7ex"):
        key = url_key(url)
        assert url_key(key) == key
