"""URL block lists: load time, match throughput and memory of corpus_tools.blocklist, against the
naive alternatives in the same run.

    .venv/bin/python benchmarks/bench_blocklist.py [--domains 1000000] [--urls 1000000] [--subset 5000]

Generates a synthetic list of --domains random domains (a file, read through the storage layer as
`ziya clean --url-blocklist` reads it) and --urls URLs, half of them on a listed domain or one of its
subdomains (with `www.`, ports, paths, queries), half on similar names that are not listed. Prints:
  1. load: seconds to read and index the list, and the memory it holds (RSS growth; the index arrays);
  2. match: URLs per second on one core (one process, batches of 2048 like a clean task's);
  3. the naive alternatives on --subset and 4x --subset domains, --subset URLs (their cost grows with
     the list's length): a per-entry `host == d or host.endswith("." + d)` loop, and one regex
     alternation of every entry; their URLs/s, the measured ratio to the Blocklist on the same subset,
     and the ratio extrapolated to the full list as if their cost were linear in it (the two subset
     sizes show whether it is).
Every matcher must agree with the Blocklist on the subsets (checked).
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import re
import string
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from corpus_tools.blocklist import host_and_path, load_blocklists  # noqa: E402

TLDS = ["com", "net", "org", "cn", "top", "xyz", "info", "de", "co.uk", "com.cn", "io", "ru"]
BATCH = 2048


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def random_domain(rng: random.Random) -> str:
    label = "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(5, 14)))
    return f"{label}.{rng.choice(TLDS)}"


def make_urls(rng: random.Random, listed: list[str], n: int) -> list[str]:
    urls = []
    for i in range(n):
        domain = rng.choice(listed) if i % 2 == 0 else random_domain(rng)  # unlisted: the same shape
        host = rng.choice(["", "www.", "m.", "news.", "a.b."]) + domain
        port = rng.choice(["", "", "", ":8080"])
        urls.append(f"{rng.choice(['http', 'https'])}://{host}{port}/p/{rng.randint(0, 10**6)}.html?id={i}")
    return urls


def naive_endswith(domains: list[str]):
    def match(url):
        parsed = host_and_path(url)
        if parsed is None:
            return None
        host = parsed[0]
        return "naive" if any(host == d or host.endswith("." + d) for d in domains) else None
    return match


def naive_regex(domains: list[str]):
    pattern = re.compile(r"(?:^|\.)(?:" + "|".join(map(re.escape, domains)) + r")$")

    def match(url):
        parsed = host_and_path(url)
        return "naive" if parsed is not None and pattern.search(parsed[0]) else None
    return match


def per_second(fn, urls: list[str]) -> tuple[float, list]:
    start = time.perf_counter()
    out = fn(urls)
    return len(urls) / (time.perf_counter() - start), out


def batched(blocklist):
    def run(urls):
        out = []
        for i in range(0, len(urls), BATCH):
            out.extend(blocklist.categories_of(urls[i:i + BATCH]))
        return out
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domains", type=int, default=1_000_000)
    ap.add_argument("--urls", type=int, default=1_000_000)
    ap.add_argument("--subset", type=int, default=5_000, help="domains and URLs the naive matchers get")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    domains = sorted({random_domain(rng) for _ in range(args.domains)})
    urls = make_urls(rng, domains, args.urls)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic.txt")
        with open(path, "w") as f:
            f.write("# synthetic block list\n" + "\n".join(domains) + "\n")
        size_mb = os.path.getsize(path) / 1e6
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        blocklist = load_blocklists([path])
        load_s = time.perf_counter() - start
        gc.collect()
        held = rss_bytes() - before
    print(f"list: {len(domains):,} domains ({size_mb:.1f} MB file); {len(urls):,} URLs, half on listed domains")
    print(f"load: {load_s:.2f} s ({len(domains) / load_s / 1e6:.2f}M lines/s); memory held {held / 2**20:.1f} MiB RSS, "
          f"index arrays {blocklist.nbytes / 2**20:.1f} MiB ({blocklist.nbytes / blocklist.domains:.0f} B/domain)")

    gc.collect()
    before = rss_bytes()
    as_set = {(d + ".")[:-1] for d in domains}  # new strings, as a set[str] built from the file would hold
    print(f"      (a set[str] of the same domains would hold {(rss_bytes() - before) / 2**20:.1f} MiB)")
    del as_set

    full_rate, found = per_second(batched(blocklist), urls)
    blocked = sum(c is not None for c in found)
    print(f"match: {full_rate:,.0f} URLs/s on one core over {len(urls):,} URLs ({blocked:,} blocked)")
    assert all(c is not None for c in found[0::2]), "a URL on a listed domain passed"

    # the naive alternatives, on subsets of the list (their cost per URL grows with its length)
    sub_urls_n = min(args.subset, len(urls))
    for n in (args.subset, 4 * args.subset):
        sub_domains = domains[:: max(1, len(domains) // n)][:n]
        sub_urls = make_urls(random.Random(args.seed + n), sub_domains, sub_urls_n)
        subset_path = _write(sub_domains)
        small = load_blocklists([subset_path])
        os.remove(subset_path)
        ours_rate, ours = per_second(lambda us: [None if c is None else "naive" for c in batched(small)(us)], sub_urls)
        print(f"subset: {len(sub_domains):,} domains, {len(sub_urls):,} URLs; Blocklist {ours_rate:,.0f} URLs/s")
        for name, make in (("per-entry endswith", naive_endswith), ("regex alternation", naive_regex)):
            start = time.perf_counter()
            match = make(sub_domains)
            build_s = time.perf_counter() - start
            rate, theirs = per_second(lambda us: [match(u) for u in us], sub_urls)
            assert theirs == ours, f"{name} disagrees with the Blocklist"
            scaled = rate * len(sub_domains) / len(domains)  # if linear in the list: its rate on the full list
            print(f"  {name:20s} {rate:>10,.0f} URLs/s (built in {build_s:.2f}s): Blocklist {ours_rate / rate:,.1f}x "
                  f"faster here; ~{full_rate / scaled:,.0f}x at {len(domains):,} domains if linear")


def _write(domains: list[str]) -> str:
    fd, path = tempfile.mkstemp(suffix=".txt", prefix="subset-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(domains) + "\n")
    return path


if __name__ == "__main__":
    main()
