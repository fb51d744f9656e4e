"""PII masking (corpus_tools.pii): every kind is masked in English and Chinese text, at the start, in
the middle and at the end of a line; every look-alike survives; placeholders are counted; the config
is checked at load."""
from __future__ import annotations

import doctest

import pytest

from corpus_tools import pii
from corpus_tools.clean import CleanConfig
from corpus_tools.config import ConfigError
from corpus_tools.pii import PiiConfig, PiiMasker


def luhn_complete(prefix: str) -> str:
    """`prefix` plus the digit that makes it pass Luhn (written here independently of pii.luhn_valid)."""
    for d in "0123456789":
        digits = [int(c) for c in prefix + d][::-1]
        if sum(x if i % 2 == 0 else (2 * x - 9 if 2 * x > 9 else 2 * x) for i, x in enumerate(digits)) % 10 == 0:
            return prefix + d
    raise AssertionError


def id_complete(first17: str) -> str:
    """`first17` plus its GB 11643 check character, from the standard's published weights."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


CARD_19 = luhn_complete("622202123456789012")  # UnionPay, 19 digits
PII = {  # kind -> how people write it
    "email": ["zhang.san@example.com", "li_si+news@mail.example.com.cn", "13812345678@163.com", "A.B-c@x-y.org"],
    "phone": [
        "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", "0086-13812345678",
        "86-13912345678", "010-12345678", "(0755) 1234 5678", "（0755）1234 5678", "021-6123-4567", "075512345678",
        "+44 20 7946 0958", "+1 (415) 555-2671", "(415) 555-2671", "415-555-2671", "+49 30 12345678",
        "+33 1 42 68 53 00", "0044 20 7946 0958", "+81 3-1234-5678",
    ],
    "ip": ["8.8.8.8", "192.168.1.1", "203.0.113.7", "255.255.255.0", "2001:db8::8a2e:370:7334",
           "2001:4860:4860::8888", "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"],
    "id_number": ["11010519491231002X", "11010519491231002x", id_complete("44030519900307681"),
                  id_complete("61010220000229123"), id_complete("82000020231231456")],
    "bank_card": ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", CARD_19,
                  " ".join([CARD_19[i:i + 4] for i in range(0, 19, 4)]), "5555555555554444"],
}
LOOK_ALIKES = [
    # versions and dotted runs
    "3.11.7", "Python 3.11.7", "1.2.3.4.5", "v1.2.3.4", "Firefox/2.0.0.11", "Linux 2.6.18.3-exp", "Section 9.2.1.1",
    "第 1.3.2.1 节", "256.1.1.1", "01.02.03.04",
    # dates, ISBNs, prices
    "2023-10-01", "20231001", "2023年10月1日", "2023.10.01", "10/01/2023", "978-7-111-12345-6", "ISBN 9787111123456",
    "ISBN 0-306-40615-2", "¥1,299.00", "$12.99", "€1.299,00", "1,234,567",
    # numbers that are not IDs, cards or phones
    "110105194912310021", "202310011234567890", "110105194902301234", "4111111111111112", "4111 1111 1111 1112",
    "12345678901", "10086100861", "10234567890", "12:30:45", "00:1a:2b:3c:4d:5e", "13812345",
    # code, handles, paths, hashes
    "@property", "@app.route('/x')", "@zhangsan", "cc @alice_bob", "std::vector", "a[1::2]", "x[::2]",
    "/usr/lib/python3.11/site-packages/x.py", r"C:\Users\zhang\Documents\report.docx", "images/icon@2x.png",
    "git@github.com:user/repo.git", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "d41d8cd98f00b204e9800998ecf8427e", "4cb810a", "0x7fff5fbff8a0",
]
TEMPLATES = {  # start, middle and end of a line, English and Chinese (no space around the item)
    "en-start": "{} is what the form said.",
    "en-middle": "Contact: {} for details.",
    "en-end": "Please reach us at {}",
    "zh-start": "{}是表格里写的。",
    "zh-middle": "请联系{}获取详情。",
    "zh-end": "联系方式：{}",
}
MASKER = PiiMasker(PiiConfig(enabled=True))


def mask_one(text: str, masker: PiiMasker = MASKER) -> tuple[str, dict]:
    texts, counts = masker.mask([text])
    return texts[0], counts[0]


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES)
@pytest.mark.parametrize("kind", pii.KINDS)
def test_every_kind_is_masked_anywhere_in_a_line(kind, template):
    placeholder = f"<{kind.upper()}>"
    for item in PII[kind]:
        assert mask_one(template.format(item)) == (template.format(placeholder), {kind: 1}), item


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES)
def test_look_alikes_survive(template):
    texts = [template.format(item) for item in LOOK_ALIKES]
    masked, counts = MASKER.mask(texts)
    assert [(t, c) for t, c in zip(masked, counts) if c] == []
    assert all(a is b for a, b in zip(masked, texts))  # untouched texts come back as they were


def test_a_document_with_many_counts_each_kind_on_every_line():
    text = ("zhang@example.com first, then 138-1234-5678\n"
            "middle 8.8.8.8 and 11010519491231002X and 4111 1111 1111 1111 here\n"
            "中文：李四 lisi@example.cn，电话（010）12345678，IP 2001:db8::1:2，卡号 5555555555554444")
    masked, counts = mask_one(text)
    assert masked == ("<EMAIL> first, then <PHONE>\n"
                      "middle <IP> and <ID_NUMBER> and <BANK_CARD> here\n"
                      "中文：李四 <EMAIL>，电话<PHONE>，IP <IP>，卡号 <BANK_CARD>")
    assert counts == {"email": 2, "phone": 2, "ip": 2, "id_number": 1, "bank_card": 2}


def test_overlaps_keep_the_longest_match_and_the_first_kind():
    assert mask_one("QQ邮箱 13812345678@qq.com")[1] == {"email": 1}  # not a phone inside an e-mail
    assert mask_one("11010519491231002X")[1] == {"id_number": 1}
    # an ID number that also passes Luhn is an ID number (province 44, born 1880; Luhn-valid by chance)
    assert pii.luhn_valid("440524188001010014") and mask_one("440524188001010014")[1] == {"id_number": 1}
    assert mask_one("+86 138 1234 5678")[0] == "<PHONE>"  # one phone, not +86 and a mobile number


def test_matches_never_cross_documents_and_batches_keep_order():
    texts = ["call 138", "1234 5678 now", "", "mail zhang@", "example.com", "8.8.8.8"]
    masked, counts = MASKER.mask(texts)
    assert masked == texts[:5] + ["<IP>"] and counts == [{}] * 5 + [{"ip": 1}]
    assert MASKER.mask([]) == ([], [])


def test_a_number_after_a_phone_number_is_not_swallowed():
    assert mask_one("+44 20 7946 0958 2023") == ("<PHONE> 2023", {"phone": 1})
    assert mask_one("+1 (415) 555-2671 0044 20 7946 0958") == ("<PHONE> <PHONE>", {"phone": 2})
    assert mask_one("13812345678 13912345678") == ("<PHONE> <PHONE>", {"phone": 2})


def test_section_numbers_and_sentence_ends():
    assert mask_one("11.1.3.4. Accepting mail")[1] == {}  # a numbered heading
    assert mask_one("basis domain). 11.1.3.4. Accepting mail\n  2.1.3.4. 配置")[1] == {}
    assert mask_one("queried from 8.8.8.8. The answer")[1] == {"ip": 1}
    assert mask_one("Use 203.0.113.7. Then restart.") == ("Use <IP>. Then restart.", {"ip": 1})
    assert mask_one("See 10.0.0.1:8080/x and [2001:db8::1]:443") == ("See <IP>:8080/x and [<IP>]:443", {"ip": 2})


def test_masking_is_idempotent():
    texts = [t.format(item) for t in TEMPLATES.values() for items in PII.values() for item in items]
    once, _ = MASKER.mask(texts)
    twice, counts = MASKER.mask(once)
    assert twice == once and not any(counts)


def test_validators():
    assert pii.id_check_digit("11010519491231002") == "X"
    assert not pii.id_number_valid("99010519491231002X")  # no province 99
    assert not pii.id_number_valid("11010599991231002X")  # born in the future
    assert pii.luhn_valid(CARD_19) and not pii.luhn_valid(CARD_19[:-1] + str((int(CARD_19[-1]) + 1) % 10))
    assert doctest.testmod(pii).failed == 0


def test_config_chooses_kinds_placeholder_and_public_ips():
    only = PiiMasker(PiiConfig(enabled=True, kinds=("email", "ip")))
    assert mask_one("zhang@example.com 13812345678 8.8.8.8", only) == ("<EMAIL> 13812345678 <IP>", {"email": 1, "ip": 1})
    square = PiiMasker(PiiConfig(enabled=True, placeholder="[{kind}]"))
    assert mask_one("call 13812345678", square) == ("call [PHONE]", {"phone": 1})
    public = PiiMasker(PiiConfig(enabled=True, public_ips_only=True))
    assert mask_one("192.168.1.1 127.0.0.1 ::1 8.8.8.8 2001:4860:4860::8888", public)[0] == "192.168.1.1 127.0.0.1 ::1 <IP> <IP>"


def test_config_is_checked_at_load():
    cfg = CleanConfig.from_dict({"pii": {"enabled": True, "kinds": ["email", "phone"], "placeholder": "[{kind}]"}})
    assert cfg.pii == PiiConfig(enabled=True, kinds=("email", "phone"), placeholder="[{kind}]")
    assert CleanConfig.from_dict({}).pii.enabled is False
    with pytest.raises(ConfigError, match=r"config\.pii\.kinds\[1\] = 'passport': expected one of 'email'"):
        CleanConfig.from_dict({"pii": {"kinds": ["email", "passport"]}})
    with pytest.raises(ConfigError, match="must contain {kind}"):
        CleanConfig.from_dict({"pii": {"placeholder": "<PII>"}})
    with pytest.raises(ConfigError, match="not a format string"):
        CleanConfig.from_dict({"pii": {"placeholder": "<{kind}{0}>"}})
    with pytest.raises(ConfigError, match="unknown key"):
        CleanConfig.from_dict({"pii": {"enable": True}})
