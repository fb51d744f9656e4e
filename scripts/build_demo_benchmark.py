"""Build data/benchmarks/demo_eval.jsonl: a small evaluation set for `ziya decontaminate`'s demo.

    .venv/bin/python scripts/build_demo_benchmark.py [--output data/benchmarks/demo_eval.jsonl]

Two kinds of items, in English and Chinese, with the fields of common benchmarks (`question`,
`passage`, `answer`):
  cloze  a passage of real text from the bundled sample corpus (data/sample: Python and kernel
         documentation, the Debian handbook, People's Daily 1998) with one word blanked out, the
         way LAMBADA-style reading sets are made from books and news. Their passages ARE in the
         corpus, so a decontaminated corpus must lose the documents they came from: these items
         are the planted contamination.
  math   GSM8K-style word problems from templates with seeded numbers and names: text the corpus
         does not hold, which must match nothing.
Seeded, so the same sample corpus gives the same file.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import zstandard

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "sample")
CLOZE_SOURCES = ("python_docs", "linux_docs", "debian_handbook", "people_daily_1998")
NAMES_EN = ["Natalia", "Weng", "Betty", "Julie", "James", "Albert", "Mark", "Tina", "Randy", "Joy", "Carla", "Ken"]
NAMES_ZH = ["小明", "小红", "王老师", "李阿姨", "张师傅", "刘同学", "陈叔叔", "赵奶奶", "孙经理", "周同学"]
THINGS_EN = ["apples", "pencils", "stickers", "marbles", "cupcakes", "books", "tickets", "shells"]
THINGS_ZH = ["苹果", "铅笔", "贴纸", "弹珠", "蛋糕", "图书", "门票", "贝壳"]


def sample_records() -> list[dict]:
    records = []
    for name in sorted(os.listdir(SAMPLE)):
        if name.endswith(".jsonl.zst"):
            with open(os.path.join(SAMPLE, name), "rb") as f:
                data = zstandard.ZstdDecompressor().stream_reader(f).read()
            records.extend(json.loads(line) for line in data.splitlines())
    return sorted(records, key=lambda r: r["id"])


def cloze_en(text: str, rng: random.Random) -> dict | None:
    words = text.split()
    if len(words) < 120:
        return None
    start = rng.randrange(20, len(words) - 80)
    passage = words[start:start + 60]
    k = rng.randrange(20, 40)
    if not passage[k].isalpha():
        return None
    answer, passage[k] = passage[k], "____"
    return {"question": "Which word fills the blank?", "passage": " ".join(passage), "answer": answer}


def cloze_zh(text: str, rng: random.Random) -> dict | None:
    flat = "".join(text.split())
    if len(flat) < 300:
        return None
    start = rng.randrange(50, len(flat) - 150)
    passage = flat[start:start + 100]
    k = rng.randrange(40, 60)
    answer = passage[k:k + 2]
    if not all("\u4e00" <= c <= "\u9fff" for c in answer):
        return None
    return {"question": "下文空格处应填哪个词？", "passage": passage[:k] + "____" + passage[k + 2:], "answer": answer}


def cloze_items(records: list[dict], per_language: int, rng: random.Random) -> list[dict]:
    items = {"en": [], "zh": []}
    pool = [r for r in records if r["source"] in CLOZE_SOURCES and r["lang"] in items and not r.get("dup_of")
            and r["kind"] in ("docs", "news")]
    rng.shuffle(pool)
    for r in pool:
        mine = items[r["lang"]]
        if len(mine) < per_language:
            item = (cloze_en if r["lang"] == "en" else cloze_zh)(r["text"], rng)
            if item:
                mine.append({**item, "kind": "cloze", "lang": r["lang"], "from": r["id"]})
    return items["en"] + items["zh"]


def math_en(rng: random.Random) -> dict:
    name, friend = rng.sample(NAMES_EN, 2)
    thing = rng.choice(THINGS_EN)
    a, b, c = rng.randrange(10, 90), rng.randrange(5, 60), rng.randrange(1, 9)
    forms = [
        (f"{name} has {a} {thing}. At the market {name} buys {b} more {thing} and then gives {c} of them to "
         f"{friend}. How many {thing} does {name} have now?", a + b - c),
        (f"{name} packs {thing} into boxes of {c + 1}. After filling {b} boxes, {name} still has {a % (c + 1)} "
         f"{thing} left over. How many {thing} did {name} start with?", b * (c + 1) + a % (c + 1)),
        (f"{friend} earns ${a} a day selling {thing} and spends ${c} of it on lunch. How much money has "
         f"{friend} saved after {b} days of work?", (a - c) * b),
    ]
    question, answer = rng.choice(forms)
    return {"question": question, "answer": str(answer), "kind": "math", "lang": "en"}


def math_zh(rng: random.Random) -> dict:
    name, friend = rng.sample(NAMES_ZH, 2)
    thing = rng.choice(THINGS_ZH)
    a, b, c = rng.randrange(10, 90), rng.randrange(5, 60), rng.randrange(1, 9)
    forms = [
        (f"{name}原来有{a}个{thing}，在商店又买了{b}个，然后送给{friend}{c}个。请问{name}现在一共有多少个{thing}？", a + b - c),
        (f"{friend}每天做{a}个{thing}，连续做了{b}天，其中有{c}个不合格被扔掉了。{friend}一共做出了多少个合格的{thing}？",
         a * b - c),
        (f"一箱{thing}有{c + 2}个，{name}买了{b}箱，路上不小心弄坏了{c}个。{name}还剩下多少个完好的{thing}？", (c + 2) * b - c),
    ]
    question, answer = rng.choice(forms)
    return {"question": question, "answer": str(answer), "kind": "math", "lang": "zh"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", default=os.path.join(ROOT, "data", "benchmarks", "demo_eval.jsonl"))
    p.add_argument("--cloze", type=int, default=20, help="cloze items per language (planted contamination)")
    p.add_argument("--math", type=int, default=80, help="word problems per language (clean items)")
    args = p.parse_args(argv)
    rng = random.Random(2023)
    items = cloze_items(sample_records(), args.cloze, rng)
    items += [math_en(rng) for _ in range(args.math)] + [math_zh(rng) for _ in range(args.math)]
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        for i, item in enumerate(items):
            f.write(json.dumps({"id": f"demo-{i:04d}", **item}, ensure_ascii=False) + "\n")
    cloze = sum(i["kind"] == "cloze" for i in items)
    print(f"{args.output}: {len(items)} items ({cloze} cloze from the sample corpus, {len(items) - cloze} word problems)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
