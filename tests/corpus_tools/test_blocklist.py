"""URL block lists read from real files: what each kind of entry blocks, and what it must not."""
from __future__ import annotations

import doctest
import gzip
import os

import pytest

from corpus_tools import blocklist
from corpus_tools.blocklist import Blocklist, BlocklistError, blocklist_files, load_blocklists


def write(path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def spam(tmp_path) -> Blocklist:
    return load_blocklists([write(tmp_path / "spam.txt", "example.com\nnews.site.org/ads/\nshop.net/p/*/banner\n")])


def test_doctests():
    assert doctest.testmod(blocklist).failed == 0


def test_a_domain_blocks_itself_and_every_subdomain(spam):
    for url in ("http://example.com/", "https://example.com/a/b?c=1", "http://shop.example.com/x", "http://a.b.c.example.com"):
        assert spam.category(url) == "spam", url


@pytest.mark.parametrize("url", ["http://notexample.com/", "http://example.com.evil.org/", "http://example.co/",
                                 "http://examplecom.net/", "http://evil.org/example.com", "http://evil.org/?u=example.com"])
def test_a_domain_is_matched_by_labels_not_by_text(spam, url):
    assert spam.category(url) is None


def test_a_url_prefix_blocks_its_paths_on_that_host_only(spam):
    blocked = ["http://news.site.org/ads/", "http://news.site.org/ads/x.html", "https://www.news.site.org/ads/1?p=2"]
    passed = ["http://news.site.org/", "http://news.site.org/adsense", "http://news.site.org/news/ads/",
              "http://site.org/ads/", "http://eu.news.site.org/ads/", "http://news.site.org/ADS/"]
    assert [spam.category(u) for u in blocked] == ["spam"] * 3
    assert [spam.category(u) for u in passed] == [None] * 6


def test_a_prefix_without_a_trailing_slash_stops_at_a_separator(tmp_path):
    bl = load_blocklists([write(tmp_path / "ads.txt", "site.org/ads\nwhole.org/\n")])
    assert [bl.category(f"http://site.org{p}") for p in ("/ads", "/ads/1", "/ads?id=3", "/adsense", "/ad")] == \
        ["ads", "ads", "ads", None, None]
    assert bl.category("http://whole.org/anything") == "ads" and bl.category("http://sub.whole.org/") is None


def test_a_star_in_the_path_matches_any_run_of_characters(spam):
    assert spam.category("http://shop.net/p/123/banner") == "spam"
    assert spam.category("http://shop.net/p/a/b/banner/big.png") == "spam"
    assert spam.category("http://shop.net/p/123/bannerx") is None
    assert spam.category("http://shop.net/q/123/banner") is None


def test_comments_blank_lines_and_spacing_are_ignored(tmp_path):
    path = write(tmp_path / "list.txt", "# a list\n\n   \n  example.com  \n#commented.org\nads.net  # trailing note\r\n")
    bl = load_blocklists([path])
    assert bl.domains == 2
    assert bl.category("http://example.com") == bl.category("http://ads.net") == "list"
    assert bl.category("http://commented.org") is None


def test_the_ut1_layout_names_each_category_by_its_folder(tmp_path):
    root = tmp_path / "blacklists"
    write(root / "adult" / "domains", "porn.example\nadult-site.net\n")
    write(root / "adult" / "urls", "free.host.org/~adult/\n")
    write(root / "adult" / "usage", "black\n")  # UT1's usage file: not a list
    write(root / "gambling" / "domains", "casino.cc\n")
    write(root / "gambling" / "expressions", "(casino|poker)\n")  # a regex list: not read
    write(root / "README", "example.com\n")  # top-level files are not lists
    bl = load_blocklists([str(root)])
    assert sorted(bl.categories) == ["adult", "gambling"]
    assert bl.drop_reasons(["http://www.porn.example/", "http://free.host.org/~adult/1.jpg", "http://casino.cc/",
                            "http://free.host.org/~bob/", "http://example.com", "http://black"]) == \
        ["url_blocked_adult", "url_blocked_adult", "url_blocked_gambling", None, None, None]
    assert bl.summary()["categories"] == {"adult": {"domains": 2, "url_prefixes": 1},
                                          "gambling": {"domains": 1, "url_prefixes": 0}}


def test_a_plain_file_is_named_by_its_stem_and_a_ut1_file_by_its_folder(tmp_path):
    files = [write(tmp_path / "My-Spam.list.txt", "a.com\n"), write(tmp_path / "ut1" / "phishing" / "domains", "b.com\n")]
    gz = tmp_path / "malware.txt.gz"
    gz.write_bytes(gzip.compress(b"c.com\n"))
    bl = load_blocklists([*files, str(gz)])
    assert bl.drop_reasons(["a.com", "b.com", "c.com"]) == \
        ["url_blocked_my_spam_list", "url_blocked_phishing", "url_blocked_malware"]


def test_hosts_are_case_insensitive_and_ports_www_and_userinfo_do_not_matter(tmp_path):
    bl = load_blocklists([write(tmp_path / "b.txt", "WWW.Example.COM.\nHTTPS://Other.org:8443/Path/\n")])
    for url in ("HTTP://EXAMPLE.COM/", "http://www.example.com:8080/x", "https://user:pw@Sub.Example.Com./",
                "//example.com/x", "example.com", "  http://m.example.com/  "):
        assert bl.category(url) == "b", url
    assert bl.category("http://other.org/Path/x") == "b"
    assert bl.category("http://other.org:9/Path/") == "b"
    assert bl.category("http://other.org/path/") is None  # paths keep their case


def test_ip_addresses_match_exactly(tmp_path):
    bl = load_blocklists([write(tmp_path / "ips.txt", "10.1.2.3\n2001:DB8::1\n")])
    assert bl.category("http://10.1.2.3:8080/x") == bl.category("http://[2001:db8::1]/") == "ips"
    assert bl.category("http://110.1.2.3/") is None and bl.category("http://9.10.1.2.3/") is None


def test_documents_without_a_url_pass(spam):
    assert spam.drop_reasons([None, "", "   ", "not a url at all", "http://", "mailto:"]) == [None] * 6


def test_the_most_specific_entry_names_the_category(tmp_path):
    first = write(tmp_path / "broad.txt", "example.com\nshared.org\n")
    second = write(tmp_path / "narrow.txt", "a.example.com\nexample.com/promo/\nshared.org\n")
    bl = load_blocklists([first, second])
    assert bl.categories_of(["http://x.a.example.com/", "http://example.com/promo/1", "http://b.example.com/",
                             "http://shared.org"]) == ["narrow", "narrow", "broad", "broad"]


def test_a_missing_list_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^url blocklist does not exist: {tmp_path}/nope.txt$"):
        load_blocklists([str(tmp_path / "nope.txt")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BlocklistError, match="no block lists in this directory"):
        load_blocklists([str(tmp_path / "empty")])


@pytest.mark.parametrize("line, says", [
    ("example.com evil.org", "expected one domain or URL per line"),
    ("ads.*.example.com", "'*' is allowed in a URL's path"),
    ("*.example.com/ads/", "a leading '*.' is allowed on a domain entry only"),
])
def test_a_bad_entry_names_its_file_and_line(tmp_path, line, says):
    path = write(tmp_path / "bad.txt", f"# header\nok.com\n{line}\n")
    with pytest.raises(BlocklistError) as exc:
        load_blocklists([path])
    assert str(exc.value).startswith(f"{path}:3: {says}")


def test_loaded_once_per_process_until_a_file_changes(tmp_path):
    path = write(tmp_path / "l.txt", "a.com\n")
    first = load_blocklists([path])
    assert load_blocklists([path]) is first
    write(tmp_path / "l.txt", "a.com\nb.com\n")
    os.utime(path, ns=(1, 1))  # a new size and modification time: read again
    again = load_blocklists([path])
    assert again is not first and again.category("b.com") == "l"


def test_a_blocklist_cannot_leave_its_process(spam):
    import pickle

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(spam)


def test_listed_files(tmp_path):
    write(tmp_path / "ut1" / "adult" / "domains", "a.com\n")
    write(tmp_path / "ut1" / "adult" / "urls", "a.com/x\n")
    assert blocklist_files([str(tmp_path / "ut1")]) == [
        (str(tmp_path / "ut1" / "adult" / "domains"), "adult"), (str(tmp_path / "ut1" / "adult" / "urls"), "adult")]


def test_a_batch_matches_what_one_url_at_a_time_does(tmp_path):
    bl = load_blocklists([write(tmp_path / "b.txt", "\n".join(f"site{i}.com" for i in range(0, 1000, 3)) + "\n")])
    urls = [f"http://www.sub.site{i}.com/p" for i in range(1000)] + [None]
    assert bl.categories_of(urls) == [bl.category(u) for u in urls]
    assert sum(c is not None for c in bl.categories_of(urls)) == 334
