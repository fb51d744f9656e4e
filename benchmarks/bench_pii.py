"""PII masking: corpus_tools.pii against DataTrove's PIIFormatter, speed and accuracy on the same text.

    bash benchmarks/setup_datatrove.sh     # once: .venv-datatrove
    .venv/bin/python benchmarks/bench_pii.py [--repeat 3] [--per-chars 1500] [--json-out FILE]

Input: every document of data/sample (real news, reviews, docs, package descriptions, code and web
pages, en + zh), with items planted at known places: one per `--per-chars` characters (at least one per
document), half PII, half look-alikes, each kind equally often. An item goes after a space, a newline or
a Chinese punctuation mark; it is glued to a neighbouring non-ASCII character (电话13812345678，) half the
time there, and padded with a space from any ASCII neighbour.
  PII: e-mails; phones (mainland mobiles 1[3-9]x + 8 digits in six spellings with/without +86/0086,
    landlines with area codes, other countries' numbers with + that libphonenumber calls valid); IPv4
    (public and private) and IPv6; resident ID numbers (real province, birth date, check character);
    bank cards (Luhn, 16 or 19 digits, plain or grouped).
  Look-alikes: versions (3.11.7, v1.2.3.4, 1.2.3.4.5), dates, ISBNs, prices, 18-digit order numbers
    (date-led, and ID-shaped with a wrong check character), 16-digit numbers failing Luhn, 11-digit
    numbers starting 10/12, decorators and mentions, file paths, hex hashes.
Scoring: an item counts as masked when its planted occurrence (with one character of context each side)
is gone from the output. Recall = planted PII masked; precision = PII masked / (PII masked + look-alikes
altered), both over the planted items only. "other" = placeholders put into the sample's own text (its
real e-mail and IP addresses, and whatever false positives it has), reported, not scored.
Speed: MB (10^6 UTF-8 bytes of the planted texts) per CPU second of one process, masking only (texts in
memory), the least of --repeat passes: ours in batches of 1024 texts (a clean task's batch), DataTrove's
`format(text)` per document, run in .venv-datatrove as a subprocess (datatrove_pii_baseline.py).
"""
from __future__ import annotations

import argparse
import glob
import ipaddress
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

import phonenumbers
import regex
import zstandard

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from corpus_tools.pii import ID_PROVINCES, PiiConfig, PiiMasker, id_check_digit, luhn_valid  # noqa: E402

DT_PYTHON = os.path.join(REPO, ".venv-datatrove", "bin", "python")
BATCH = 1024
SLOT = regex.compile(r"(?<=[\s，。；：、！？])")  # where an item may go


# ------------------------------------------------------------------------------ planted items

def luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789", k=n))


def email(rng):
    local = rng.choice([f"{rng.choice(['zhang', 'li', 'wang', 'chen', 'john', 'mary'])}{rng.choice(['', '.', '_'])}"
                        f"{rng.choice(['san', 'wei', 'smith', 'lee', ''])}{digits(rng, rng.randint(0, 3))}",
                        digits(rng, rng.randint(6, 10))])
    return f"{local or 'x'}@{rng.choice(['gmail.com', '163.com', 'qq.com', 'example.com.cn', 'mail.example.org', 'sina.cn'])}"


def phone(rng):
    kind = rng.random()
    if kind < 0.45:  # mainland mobile, as the spec defines it (libphonenumber may call a few ranges unallocated)
        n = "1" + rng.choice("3456789") + digits(rng, 9)
        spelled = rng.choice([n, f"{n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}"])
        return rng.choice(["", "", "+86 ", "+86", "0086-"]) + spelled
    if kind < 0.75:  # landline
        area = rng.choice(["010", "021", "020", "0755", "0571", "028"])
        sub = rng.choice("2345678") + digits(rng, 7)  # these cities' numbers have 8 digits
        return rng.choice([f"{area}-{sub}", f"({area}) {sub[:4]} {sub[4:]}", f"（{area}）{sub}", f"{area} {sub}"])
    while True:  # elsewhere, with +: random digits until libphonenumber calls them a valid number
        cc, length = rng.choice([(1, 10), (44, 10), (49, 10), (33, 9), (81, 10), (61, 9), (65, 8), (852, 8)])
        candidate = phonenumbers.parse(f"+{cc}{digits(rng, length)}")
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def ip(rng):
    kind = rng.random()
    if kind < 0.45:
        while not (a := ipaddress.IPv4Address(rng.getrandbits(32))).is_global:
            pass
        return str(a)
    if kind < 0.7:
        return rng.choice([f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}", f"10.{rng.randint(0, 255)}.0.{rng.randint(1, 254)}"])
    return ipaddress.IPv6Address((0x2400 << 112) | rng.getrandbits(100)).compressed  # global unicast


def id_number(rng):
    born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = rng.choice(sorted(ID_PROVINCES)) + digits(rng, 4) + born + digits(rng, 3)
    return first17 + id_check_digit(first17)


def bank_card(rng):
    length = rng.choice([16, 16, 19])
    prefix = rng.choice(["62", "4", "5"])
    n = luhn_complete(prefix + digits(rng, length - 1 - len(prefix)))
    return rng.choice([n, " ".join(n[i:i + 4] for i in range(0, length, 4)), "-".join(n[i:i + 4] for i in range(0, length, 4))])


PII = {"email": email, "phone": phone, "ip": ip, "id_number": id_number, "bank_card": bank_card}


def wrong_check_id(rng):
    good = id_number(rng)
    return good[:17] + rng.choice([c for c in "0123456789X" if c != good[17]])


def bad_luhn(rng):
    n = rng.choice(["62", "4", "5"]) + digits(rng, 14)
    return next(n + d for d in "0123456789" if not luhn_valid(n + d))


LOOK_ALIKES = {
    "version": lambda r: rng_pick(r, [f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}",
                                      f"v{r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 99)}",
                                      ".".join(str(r.randint(0, 20)) for _ in range(5))]),
    "date": lambda r: rng_pick(r, [f"20{r.randint(0, 24):02d}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                                   f"20{r.randint(0, 24):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"]),
    "isbn": lambda r: rng_pick(r, [f"978-7-{digits(r, 3)}-{digits(r, 5)}-{digits(r, 1)}", f"ISBN 9787{digits(r, 9)}"]),
    "price": lambda r: rng_pick(r, [f"¥{r.randint(1, 9)},{digits(r, 3)}.00", f"${r.randint(1, 99)}.{digits(r, 2)}"]),
    "order_number": lambda r: rng_pick(r, [f"20{r.randint(20, 24)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{digits(r, 10)}",
                                           wrong_check_id(r)]),
    "card_bad_luhn": bad_luhn,
    "not_mobile": lambda r: r.choice(["10", "12"]) + digits(r, 9),
    "handle": lambda r: rng_pick(r, ["@property", "@staticmethod", "@app.route('/')", f"@user{digits(r, 3)}", "@张三"]),
    "path": lambda r: rng_pick(r, ["/usr/lib/python3.11/os.py", r"C:\Windows\System32\drivers\etc\hosts", "./img/logo@2x.png"]),
    "hash": lambda r: "".join(r.choices("0123456789abcdef", k=r.choice([32, 40]))),
}


def rng_pick(rng, options):
    return rng.choice(options)


def plant(texts: list[str], per_chars: int, seed: int):
    """Texts with items planted; per text, (kind, is_pii, context) of each item (context: the item with
    one character each side, as it stands in the planted text)."""
    rng = random.Random(seed)
    kinds = [(k, True) for k in PII] * 2 + [(k, False) for k in LOOK_ALIKES]  # half PII: 10 + 10
    planted, items = [], []
    for text in texts:
        slots = [m.start() for m in SLOT.finditer(text)]
        n = min(len(slots), max(1, len(text) // per_chars))
        chosen = sorted(rng.sample(slots, n)) if n else []
        out, at, doc_items = [], 0, []
        length = 0
        for pos in chosen:
            if pos - at < 2 and doc_items:  # keep items apart, so contexts never overlap
                continue
            kind, is_pii = rng.choice(kinds)
            item = (PII if is_pii else LOOK_ALIKES)[kind](rng)
            before, after = text[pos - 1:pos], text[pos:pos + 1]
            glue = rng.random() < 0.5
            left = "" if (not before or before.isspace() or (glue and not before.isascii())) else " "
            right = "" if (after.isspace() or (glue and after and not after.isascii())) else " "
            out.append(text[at:pos])
            length += pos - at
            start = length + len(left)
            out.append(left + item + right)
            length += len(left) + len(item) + len(right)
            doc_items.append((kind, is_pii, start, start + len(item)))
            at = pos
        out.append(text[at:])
        new = "".join(out)
        planted.append(new)
        items.append([(kind, is_pii, new[max(0, a - 1):b + 1]) for kind, is_pii, a, b in doc_items])
    return planted, items


# ------------------------------------------------------------------------------------- scoring

def score(planted, masked, items, pii_kinds: set[str]) -> dict:
    """Masked items per kind, and totals over the PII kinds in `pii_kinds` and every look-alike."""
    hit, total = Counter(), Counter()
    for before, after, doc_items in zip(planted, masked, items):
        by_context = defaultdict(list)
        for kind, is_pii, ctx in doc_items:
            by_context[ctx].append((kind, is_pii))
        for ctx, group in by_context.items():
            gone = max(0, before.count(ctx) - after.count(ctx))
            for j, (kind, is_pii) in enumerate(group):
                total[(kind, is_pii)] += 1
                hit[(kind, is_pii)] += j < gone
    tp = sum(hit[(k, True)] for k in pii_kinds)
    fn = sum(total[(k, True)] for k in pii_kinds) - tp
    fp = sum(n for (k, is_pii), n in hit.items() if not is_pii)
    return {"tp": tp, "fn": fn, "fp": fp, "altered": sum(hit.values()), "recall": tp / max(1, tp + fn), "precision": tp / max(1, tp + fp),
            "per_kind": {f"{k}{'' if p else ' (look-alike)'}": [hit[(k, p)], total[(k, p)]] for k, p in sorted(total)}}


def read_sample() -> list[str]:
    texts = []
    for path in sorted(glob.glob(os.path.join(REPO, "data", "sample", "*.jsonl.zst"))):
        with open(path, "rb") as f:
            data = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
        texts += [json.loads(line)["text"] for line in data.splitlines()]
    return texts


def ours(planted, kinds, repeat):
    masker = PiiMasker(PiiConfig(enabled=True, kinds=kinds))
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        texts, counts = [], []
        for i in range(0, len(planted), BATCH):
            t, c = masker.mask(planted[i:i + BATCH])
            texts += t
            counts += c
        best = min(best, time.process_time() - start)
        result = (texts, counts)
    texts, counts = result
    return texts, best, sum(sum(c.values()) for c in counts)


def datatrove(texts, repeat, all_ips, tmp, name):
    src, dst, figures = (os.path.join(tmp, f"{name}.{suffix}") for suffix in ("jsonl", f"dt{all_ips}.jsonl", f"dt{all_ips}.json"))
    if not os.path.exists(src):
        with open(src, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    subprocess.run([DT_PYTHON, os.path.join(REPO, "benchmarks", "datatrove_pii_baseline.py"), "--input", src,
                    "--output", dst, "--json-out", figures, "--repeat", str(repeat)] + (["--all-ips"] if all_ips else []),
                   check=True)
    with open(dst, encoding="utf-8") as f:
        masked = [json.loads(line)["text"] for line in f]
    with open(figures) as f:
        fig = json.load(f)
    replacements = fig["email_replacements"] + fig["ip_replacements"]
    n = sum(a.count(r) - b.count(r) for a, b in zip(masked, texts) for r in replacements)
    return masked, fig["cpu_s"], n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-chars", type=int, default=1500, help="one planted item per this many characters")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json-out")
    args = ap.parse_args()

    sample = read_sample()
    planted, items = plant(sample, args.per_chars, args.seed)
    mb = sum(len(t.encode("utf-8")) for t in planted) / 1e6
    sample_mb = sum(len(t.encode("utf-8")) for t in sample) / 1e6
    n_pii = sum(is_pii for doc in items for _, is_pii, _ in doc)
    n_items = sum(map(len, items))
    print(f"input: {len(planted):,} documents of data/sample ({sample_mb:.2f} MB), {mb:.2f} MB with "
          f"{n_items:,} planted items: {n_pii:,} PII, {n_items - n_pii:,} look-alikes")

    everything, email_ip = set(PII), {"email", "ip"}
    runs = []  # (masker, kinds it masks, kinds scored, masked texts, CPU s, masks made, CPU s on the sample as shipped)
    for kinds, over in ((tuple(PII), everything), (("email", "ip"), email_ip)):
        runs.append(("corpus_tools.pii", " ".join(kinds) if len(kinds) < 5 else "all 5 kinds", [over],
                     *ours(planted, kinds, args.repeat), ours(sample, kinds, args.repeat)[1]))
    if os.path.exists(DT_PYTHON):
        with tempfile.TemporaryDirectory() as tmp:
            for all_ips in (False, True):
                texts, cpu, n = datatrove(planted, args.repeat, all_ips, tmp, "planted")
                plain_cpu = datatrove(sample, args.repeat, all_ips, tmp, "sample")[1]
                name = "DataTrove PIIFormatter" + (" (all IPs)" if all_ips else " (default: public IPs)")
                runs.append((name, "email ip", [email_ip, everything] if not all_ips else [email_ip],
                             texts, cpu, n, plain_cpu))
    else:
        print("datatrove: .venv-datatrove missing (bash benchmarks/setup_datatrove.sh); skipped", file=sys.stderr)

    rows = []
    print("\n| masker | masks | scored over | MB/s per core (planted) | MB/s per core (sample as shipped) | recall "
          "| precision | look-alikes altered | other masks |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, kinds, overs, texts, cpu, n, plain_cpu in runs:
        for over in overs:
            s = score(planted, texts, items, over)
            label = "all 5 kinds" if over is everything else "email ip"
            print(f"| {name} | {kinds} | {label} | {mb / cpu:,.1f} | {sample_mb / plain_cpu:,.1f} | {s['recall']:.3f} | "
                  f"{s['precision']:.3f} | {s['fp']} | {n - s['altered']} |")
            rows.append({"masker": name, "masks": kinds, "scored_over": label, "mb_per_s_per_core": mb / cpu,
                         "sample_mb_per_s_per_core": sample_mb / plain_cpu, "cpu_s": cpu, **s, "other_masks": n - s["altered"]})
    print("\nper kind, masked / planted:")
    for row in rows:
        if row["scored_over"] == "all 5 kinds":
            print(f"  {row['masker']} ({row['masks']}): " + ", ".join(f"{k} {h}/{t}" for k, (h, t) in row["per_kind"].items()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"mb": mb, "sample_mb": sample_mb, "documents": len(planted), "items": n_items, "pii_items": n_pii, "runs": rows}, f, indent=2)


if __name__ == "__main__":
    main()
