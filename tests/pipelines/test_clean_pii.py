"""`ziya clean --mask-pii` (`[pii] enabled = true`) on a real Spark session: kept and rejected texts are
masked, stats.json counts each kind, each row's signals carry its counts, every document is accounted
for, and everything else is cleaned as without masking."""
from __future__ import annotations

import json

from corpus_tools.clean import CleanConfig
from pipelines import clean
from tests.hostile_inputs import count_input_records
from tests.pipelines.test_clean_job import read_dir

PROSE = ("The committee met on Tuesday to review the budget for the coming year. Members discussed the "
         "cost of repairs to the old bridge, which has been closed since the spring floods. After a long "
         "debate they agreed to ask the council for more money and to publish the plan next month.\n\n"
         "Residents who live near the river say the closure has doubled the time it takes them to drive to "
         "work. Several shop owners told the meeting that their sales have fallen since the spring. The mayor "
         "promised that the repairs would start before the end of the summer if the money is approved.")
ZH = ("本报北京一月一日讯 记者从有关部门获悉，今年全市将继续加大对老旧小区的改造力度，计划完成一百个小区的"
      "供暖、供水和道路改造工程。有关负责人表示，改造工作将充分听取居民意见，确保工程质量和施工安全。\n\n"
      "据介绍，去年全市共投入资金二十多亿元，改造老旧小区六十多个，惠及居民三万多户。今年的改造工程将在"
      "三月份陆续开工，年底前全部完工。居民如对改造方案有意见或建议，可以通过街道办事处反映。")
DOCS = {  # id -> text; the PII each holds
    "en-pii": f"Write to zhang.san@example.com or call +1 (415) 555-2671 from 8.8.8.8. The office is open.\n\n{PROSE}",
    "zh-pii": f"{ZH}联系电话：138-1234-5678，身份证号 11010519491231002X，银行卡 4111 1111 1111 1111。",
    "en-lookalike": f"Python 3.11.7 shipped on 2023-10-01 for $12.99 (ISBN 978-7-111-12345-6).\n\n{PROSE}",
    "short-pii": "Mail me: li@example.cn",  # rejected by the rules, masked all the same
}
MASKED = {
    "en-pii": f"Write to <EMAIL> or call <PHONE> from <IP>. The office is open.\n\n{PROSE}",
    "zh-pii": f"{ZH}联系电话：<PHONE>，身份证号 <ID_NUMBER>，银行卡 <BANK_CARD>。",
    "en-lookalike": DOCS["en-lookalike"],
    "short-pii": "Mail me: <EMAIL>",
}


def write_inputs(folder) -> str:
    folder.mkdir()
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as f:
        for doc_id, text in DOCS.items():
            f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        f.write("{not json zhang@example.com\n")  # quarantined as read
    return str(folder)


def rows_by_id(out) -> dict[str, dict]:
    return {r["id"]: r for name in ("kept", "rejected") for r in read_dir(str(out / name))}


def test_clean_masks_pii_counts_it_and_accounts_for_every_document(spark, tmp_path):
    inputs = write_inputs(tmp_path / "in")
    cfg = CleanConfig.from_dict({"pii": {"enabled": True}})
    stats = clean.run(spark, [inputs], str(tmp_path / "out"), cfg)
    plain = clean.run(spark, [inputs], str(tmp_path / "plain"), CleanConfig())

    assert stats["reconciles"] and stats["input"] == count_input_records([inputs]) == len(DOCS) + 1
    rows = rows_by_id(tmp_path / "out")
    assert len(rows) + len(read_dir(str(tmp_path / "out" / "quarantine"))) == stats["input"]
    assert {doc_id: r["text"] for doc_id, r in rows.items()} == MASKED
    assert {r["id"] for r in read_dir(str(tmp_path / "out" / "kept"))} == {"en-pii", "zh-pii", "en-lookalike"}
    assert rows["short-pii"]["drop_reason"] is not None

    signals = {doc_id: {k: v for k, v in r["signals"] if k.startswith("pii_")} for doc_id, r in rows.items()}
    assert signals == {"en-pii": {"pii_email": 1, "pii_phone": 1, "pii_ip": 1},
                       "zh-pii": {"pii_phone": 1, "pii_id_number": 1, "pii_bank_card": 1},
                       "en-lookalike": {}, "short-pii": {"pii_email": 1}}
    c = stats["counters"]
    assert {k: v for k, v in c.items() if k.startswith("pii/")} == {
        "pii/email": 2, "pii/phone": 2, "pii/ip": 1, "pii/id_number": 1, "pii/bank_card": 1}
    with open(tmp_path / "out" / "config.json", encoding="utf-8") as f:
        assert json.load(f)["pii"]["enabled"] is True

    # the same documents kept as without masking, a document without PII written exactly as there,
    # and no pii counters or signals there
    before = rows_by_id(tmp_path / "plain")
    assert {r["id"] for r in read_dir(str(tmp_path / "plain" / "kept"))} == {"en-pii", "zh-pii", "en-lookalike"}
    assert rows["en-lookalike"] == before["en-lookalike"]
    assert not any(k.startswith("pii/") for k in plain["counters"])
    assert not any(k.startswith("pii_") for r in before.values() for k, _ in r["signals"])
