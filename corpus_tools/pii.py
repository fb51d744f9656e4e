"""PII masking: e-mail addresses, phone numbers, IP addresses, Chinese resident ID numbers and bank
card numbers become placeholders that name their kind (`<EMAIL>`, `<PHONE>`, `<IP>`,
`<ID_NUMBER>`, `<BANK_CARD>`).

>>> masker = PiiMasker(PiiConfig(enabled=True))
>>> masker.mask(["邮箱 zhang.san@example.com，电话 138-1234-5678", "v3.11.7 on 2023-10-01, ¥1,299.00"])
(['邮箱 <EMAIL>，电话 <PHONE>', 'v3.11.7 on 2023-10-01, ¥1,299.00'], [{'email': 1, 'phone': 1}, {}])

`ziya clean --mask-pii` (or `[pii] enabled = true` in the clean config) runs it on every segment
after preprocessing, before language ID (corpus_tools.clean explains why there).

Design: find candidates cheaply, validate only candidates.
- Each detector is one `regex` pattern plus a validator. A batch's texts are joined with NUL (which
  no pattern can match, so no match crosses two documents) and each pattern scans the joined
  string once; a match's document is found by bisecting the documents' start offsets. The scan is
  C code: each pattern starts with a literal or a narrow class (one pattern per phone shape rather
  than one alternation, ~5x faster), and the `regex` module runs them at 300-1700 MB/s each on
  data/sample, 3-10x stdlib `re` with these look-behinds. Python runs per candidate, not per
  character or document; a detector that needs "@", "+", "(0" or a colon run skips texts without.
- Patterns use ASCII classes for their edges, never `\\w` or `\\b`: in the `regex` module
  (and in `re`) a Han character is a word character, and "邮箱zhang@example.com" or
  "电话13812345678" must still match. A candidate must not be glued to a letter, a digit or (for
  dotted quads) a dot, so versions (v1.2.3.4, 1.2.3.4.5), hashes, order numbers and ISBN
  digit runs are not cut into matches.
- Validators do what a regex cannot: `ipaddress` for IPv4/IPv6 (octets <= 255, no leading zeros;
  an IPv6 candidate needs 3+ colons and a digit, so `std::vector`, `a[1::2]` and 12:30:45
  survive); Google's libphonenumber metadata (`phonenumbers`) for mainland landlines (region CN),
  `+`/`00` numbers of any country and North American numbers written (415) 555-2671 or
  415-555-2671 (a mainland mobile number is any 1[3-9]x + 8 digits, by its shape); the province,
  birth date and ISO 7064 MOD 11-2 check character of an 18-character ID number; Luhn and a first
  digit of 3-6 (card networks, not order numbers that start with a date) for 16-19-digit cards.
- Overlaps: the longest match wins, then the order of `KINDS` (an e-mail such as
  13812345678@163.com is one e-mail, not a phone number; an 18-digit ID number is not also a card).

Speed and accuracy against DataTrove's PIIFormatter: benchmarks/bench_pii.py.
"""
from __future__ import annotations

import bisect
import datetime
import ipaddress
import typing
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Literal

import phonenumbers
import regex

Kind = Literal["email", "id_number", "bank_card", "phone", "ip"]
KINDS: tuple[Kind, ...] = typing.get_args(Kind)  # also the precedence of overlapping matches
Span = tuple[int, int]  # (start, end) in a text


@dataclass
class PiiConfig:
    """What `ziya clean` masks (off unless `enabled`) and how a placeholder looks."""

    enabled: bool = False
    kinds: tuple[Kind, ...] = KINDS
    # A format string; {kind} is the kind in capitals: EMAIL, PHONE, IP, ID_NUMBER, BANK_CARD.
    placeholder: str = "<{kind}>"
    # Leave private, loopback, link-local and documentation addresses (192.168.0.1, 127.0.0.1, ::1)
    # alone, as DataTrove's PIIFormatter does by default: they name no one, and technical text
    # needs them. Off by default: every valid address is masked.
    public_ips_only: bool = False

    def __post_init__(self):
        if "{kind}" not in self.placeholder:
            raise ValueError(f"pii.placeholder {self.placeholder!r} must contain {{kind}}")
        try:
            self.placeholder.format(kind="EMAIL")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"pii.placeholder {self.placeholder!r} is not a format string with only {{kind}}: {exc}")

    def placeholder_for(self, kind: str) -> str:
        return self.placeholder.format(kind=kind.upper())


# --------------------------------------------------------------------------------- validators

# First two digits of a resident ID number: the province-level divisions of GB/T 2260
# (11-15 north, 21-23 north-east, 31-37 east, 41-46 south-central, 50-54 south-west,
# 61-65 north-west, 71 Taiwan, 81 Hong Kong, 82 Macau).
ID_PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
                         "61 62 63 64 65 71 81 82".split())
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # ISO 7064 MOD 11-2
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643, ISO 7064 MOD 11-2).

    >>> id_check_digit("11010519491231002")
    'X'
    """
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_number_valid(s: str) -> bool:
    """A real province, a real birth date (not in the future) and the right check character.

    >>> id_number_valid("11010519491231002X"), id_number_valid("110105194912310021")
    (True, False)
    >>> id_number_valid("110105194902301234")  # 30 February
    False
    """
    if len(s) != 18 or not s[:17].isdigit() or s[:2] not in ID_PROVINCES:
        return False
    try:
        born = datetime.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return born <= datetime.date.today() and id_check_digit(s[:17]) == s[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of card numbers.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _whole(ok: Callable[[str], bool]) -> Callable[[str], list[Span]]:
    """A validator of the whole candidate as a span finder."""
    return lambda s: [(0, len(s))] if ok(s) else []


def _card_number(s: str) -> bool:
    digits = s.replace(" ", "").replace("-", "")
    return 16 <= len(digits) <= 19 and luhn_valid(digits)


def _bank_card(s: str) -> list[Span]:
    """The card number, or its first four groups when a short fifth one fails: "4973 3827 7586 0767 1."
    numbers a list item after a 16-digit card."""
    if _card_number(s):
        return [(0, len(s))]
    cut = max(s.rfind(" "), s.rfind("-"))
    return [(0, cut)] if cut >= 19 and _card_number(s[:cut]) else []


def _ipv4(public_only: bool) -> Callable[[str], list[Span]]:
    def spans(s: str) -> list[Span]:
        if s.endswith("."):  # "\n11.1.3.4. Accepting": a heading's number, unless an octet is 100+
            s = s[:-1]
            if all(len(octet) < 3 for octet in s.split(".")):
                return []
        try:
            ip = ipaddress.IPv4Address(s)
        except ValueError:
            return []
        return [(0, len(s))] if ip.is_global or not public_only else []
    return spans


def _ipv6(public_only: bool) -> Callable[[str], list[Span]]:
    def spans(s: str) -> list[Span]:
        if s.endswith(":") and not s.endswith("::"):  # "fe80::1:" ends a clause
            s = s[:-1]
        if s.count(":") < 3 or not any(c.isdigit() for c in s):
            return []
        try:
            ip = ipaddress.IPv6Address(s)
        except ValueError:
            return []
        return [(0, len(s))] if ip.is_global or not public_only else []
    return spans


def _phone_valid(s: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(s, region))
    except phonenumbers.NumberParseException:
        return False


_GROUP_BREAK = regex.compile(r"[ \-.(]+(?=\d)")
_CN_MOBILE = regex.compile(r"(?:\+|00)86[ \-]?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)")


def _international(s: str) -> list[Span]:
    """A `+`/`00` number, or its longest valid prefix ending at a digit group: the pattern may
    have swallowed a year or a count written after it."""
    mobile = _CN_MOBILE.match(s)  # +86 and a mainland mobile number, valid by its shape (see _detectors)
    if mobile:
        return [mobile.span()]
    ends = [len(s)] + [m.start() for m in reversed(list(_GROUP_BREAK.finditer(s)))][:4]
    for end in ends:
        if _phone_valid(s[:end], "CN"):  # CN: "00" is its international prefix
            return [(0, end)]
    return []


# ----------------------------------------------------------------------------------- patterns

_NOT_AFTER = r"(?<![0-9A-Za-z])"  # not glued to a letter or digit before...
_NOT_BEFORE = r"(?![0-9A-Za-z])"  # ...or after
# Image names such as icon@2x.png look like addresses; these are never top-level domains people
# write to (.py and .sh are ccTLDs, but far more often file names).
_FILE_SUFFIXES = frozenset("png jpg jpeg gif svg webp bmp ico tif tiff pdf js css json xml html htm py sh txt md "
                           "rst yaml yml toml zip gz tar so o c h cpp hpp java go rs".split())


def _email(s: str) -> list[Span]:
    local, _, domain = s.partition("@")
    if domain.rsplit(".", 1)[-1].lower() in _FILE_SUFFIXES or local == "git":  # git@github.com:user/repo
        return []
    return [(0, len(s))]


@dataclass(frozen=True)
class Detector:
    """One kind of PII: a candidate pattern, the texts worth scanning, and a validator that turns a
    candidate into the spans (relative to it) that really are PII."""

    kind: Kind
    pattern: regex.Pattern
    spans: Callable[[str], list[Span]]
    may_contain: Callable[[str], bool] | None = None  # a cheap test in C; None: scan every text
    overlapped: bool = False  # also try candidates that start inside an earlier one


# Digit groups after a country code, maybe bracketed: " 20 7946 0958", "-(415) 555-2671".
_GROUPS = r"(?:[ \-.]?\(?\d{1,5}\)?){1,6}"
# Is there anything like an IPv6 address: hex next to "::" or three colon-separated groups
# (a plain "::" ends every reST paragraph that introduces a code block).
_IPV6_HINT = regex.compile(r":(?:(?<=[0-9A-Fa-f]:):|:[0-9A-Fa-f]|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)")


def _detectors(public_ips_only: bool) -> dict[Kind, list[Detector]]:
    return {
        "email": [Detector(
            "email",
            regex.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
                          r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_\-])"),
            _email, lambda t: "@" in t)],
        "id_number": [Detector(
            "id_number",
            regex.compile(_NOT_AFTER + r"[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                          + _NOT_BEFORE),
            _whole(id_number_valid))],
        "bank_card": [Detector(
            "bank_card",  # 16-19 digits, plain or in groups of four with one kind of separator
            regex.compile(r"(?<![0-9A-Za-z\-])[3-6]\d{3}(?P<sep>[ \-]?)\d{4}(?P=sep)\d{4}(?P=sep)\d{4}"
                          r"(?:(?P=sep)\d{1,3})?" + _NOT_BEFORE),
            _bank_card)],
        "phone": [  # one pattern per shape: a pattern with one literal or narrow first character scans ~10x faster
            Detector(  # mainland China mobile: 1[3-9]x xxxx xxxx, maybe 86 first (+86 is the +/00 detectors').
                "phone",  # Every 1[3-9]x range, allocated or not: libphonenumber would miss ranges opened since
                          # its metadata was cut (16x, 19x came that way), and a mask errs on the safe side.
                regex.compile(r"(?<![0-9A-Za-z+])(?:86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}" + _NOT_BEFORE),
                _whole(lambda s: True)),
            Detector(  # mainland China landline: 0xx[x] xxx[x] xxxx
                "phone",
                regex.compile(r"(?<![0-9A-Za-z+])0\d{2,3}[ \-]?\d{3,4}[ \-]?\d{4}" + _NOT_BEFORE),
                _whole(lambda s: _phone_valid(s, "CN"))),
            Detector(  # ... with the area code in brackets: (0755) 1234 5678, （010）12345678
                "phone",
                regex.compile(r"[(（](?<![0-9A-Za-z+][(（])0\d{2,3}[)）] ?\d{3,4}[ \-]?\d{4}" + _NOT_BEFORE),
                _whole(lambda s: _phone_valid(s, "CN")), lambda t: "(0" in t or "（0" in t),
            Detector(  # any country with +: +44 20 7946 0958, +86 138-1234-5678, +1 (415) 555-2671
                "phone",
                regex.compile(r"\+(?<![0-9A-Za-z+]\+)[1-9]\d{0,3}" + _GROUPS + _NOT_BEFORE),
                _international, lambda t: "+" in t),
            Detector(  # ... or with China's international prefix 00: 0044 20 7946 0958, 0086-13812345678
                "phone",  # overlapped: "0044 20 7946 0958 0033 1 42 68 53 00" is one candidate, then a second
                regex.compile(r"(?<![0-9A-Za-z+])00[1-9]\d{0,3}" + _GROUPS + _NOT_BEFORE),
                _international, lambda t: "00" in t, overlapped=True),
            Detector(  # North America without +1: (415) 555-2671
                "phone",
                regex.compile(r"\((?<![0-9A-Za-z+\-.]\()[2-9]\d\d\) ?\d{3}[\-. ]\d{4}(?![0-9A-Za-z]|[\-.]\d)"),
                _whole(lambda s: _phone_valid(s, "US")), lambda t: "(" in t),
            Detector(  # ... 415-555-2671, 415.555.2671
                "phone",
                regex.compile(r"(?<![0-9A-Za-z+\-.])[2-9]\d\d(?P<sep>[\-.])\d{3}(?P=sep)\d{4}(?![0-9A-Za-z]|[\-.]\d)"),
                _whole(lambda s: _phone_valid(s, "US"))),
        ],
        "ip": [
            Detector(  # a dotted quad, but not part of a longer dotted run (1.2.3.4.5, v1.2.3.4), an id
                "ip",    # (id-1.9.25.19), a version (Firefox/2.0.0.11, 2.6.18.3-exp) or a section number
                         # (Section 9.2.1.1, 第 1.3.2.1 节); at the start of a line or sentence the dot after it
                         # stays in the candidate when a capital or Han follows, for _ipv4 to judge whether it
                         # numbers a heading ("). 11.1.3.4. Accepting ...", not "from 8.8.8.8. The")
                regex.compile(r"(?<![0-9A-Za-z.])(?<![A-Za-z_]-|[A-Za-z]/)"
                              r"(?<!(?:[Ss]ection|[Ss]ektion|[Ss]eksjon|[Ss]ecci[oó]n|[Cc]hapter|§|第|Sect\.)[ \xa0]?)"
                              r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![0-9A-Za-z]|\.\d|-[A-Za-z]|[ \xa0]?[节章条])"
                              r"(?:(?<=(?:^|[\n\x00.)>。!?])[ \t\xa0]*[\d.]{7,15})\.(?=[ \t\xa0]+[A-Z\p{Han}]))?"),
                _ipv4(public_ips_only)),
            Detector(
                "ip",
                regex.compile(r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z:])"),
                _ipv6(public_ips_only), _IPV6_HINT.search),
        ],
    }


# ------------------------------------------------------------------------------------- masker

SEPARATOR = "\x00"  # between the texts of a batch; no pattern matches it


class PiiMasker:
    """Finds and masks the configured kinds in batches of texts."""

    def __init__(self, cfg: PiiConfig):
        self.cfg = cfg
        by_kind = _detectors(cfg.public_ips_only)
        self.detectors = [d for kind in KINDS if kind in cfg.kinds for d in by_kind[kind]]

    @cached_property
    def placeholders(self) -> dict[str, str]:
        return {kind: self.cfg.placeholder_for(kind) for kind in KINDS}

    def find(self, texts: list[str]) -> list[list[tuple[int, int, Kind]]]:
        """Per text, the non-overlapping PII spans (start, end, kind) in order."""
        found: list[list[tuple[int, int, int, Kind]]] = [[] for _ in texts]
        for detector in self.detectors:
            rows = [i for i, t in enumerate(texts)
                    if t and (detector.may_contain is None or detector.may_contain(t))]
            if not rows:
                continue
            starts, offset = [], 0
            for i in rows:
                starts.append(offset)
                offset += len(texts[i]) + 1
            rank = KINDS.index(detector.kind)
            for m in detector.pattern.finditer(SEPARATOR.join([texts[i] for i in rows]), overlapped=detector.overlapped):
                at = bisect.bisect_right(starts, m.start()) - 1
                base = m.start() - starts[at]
                for a, b in detector.spans(m.group()):
                    found[rows[at]].append((base + a, base + b, rank, detector.kind))
        return [_non_overlapping(spans) for spans in found]

    def mask(self, texts: list[str]) -> tuple[list[str], list[dict[str, int]]]:
        """(texts with every span replaced by its placeholder, matches per kind of each text).
        A text without PII comes back as the same object, with an empty dict."""
        out, counts = [], []
        for text, spans in zip(texts, self.find(texts)):
            if not spans:
                out.append(text)
                counts.append({})
                continue
            pieces, at, n = [], 0, {}
            for start, end, kind in spans:
                pieces += [text[at:start], self.placeholders[kind]]
                at = end
                n[kind] = n.get(kind, 0) + 1
            pieces.append(text[at:])
            out.append("".join(pieces))
            counts.append(n)
        return out, counts


def _non_overlapping(spans: list[tuple[int, int, int, Kind]]) -> list[tuple[int, int, Kind]]:
    """Left to right, the longest span (then the kind ranked first) of each overlapping group."""
    if len(spans) < 2:
        return [(a, b, kind) for a, b, _, kind in spans]
    kept: list[tuple[int, int, Kind]] = []
    for a, b, _, kind in sorted(spans, key=lambda s: (s[0], s[0] - s[1], s[2])):
        if kept and a < kept[-1][1]:
            if b - a > kept[-1][1] - kept[-1][0]:  # a longer one that starts inside the last
                kept[-1] = (a, b, kind)
            continue
        kept.append((a, b, kind))
    return kept
