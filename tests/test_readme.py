"""The README stays true: its example config loads, and its commands exist."""
from __future__ import annotations

import os
import re
import tomllib

from corpus_tools.clean import CleanConfig
from tests.conftest import REPO
from ziya.cli import build_parser

README = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()


def test_example_config_is_valid():
    block = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    cfg = CleanConfig.from_dict(tomllib.loads(block))
    assert cfg.langid.allowed == ["zh", "en"] and cfg.filters["c4_quality"] is False


def test_make_targets_named_in_the_readme_exist():
    makefile = open(os.path.join(REPO, "Makefile"), encoding="utf-8").read()
    for target in re.findall(r"^make (\w+)", README, re.M):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_documented_clean_flags_exist():
    usage = re.search(r"ziya clean --input PATH.*?```", README, re.S).group(0)
    clean = build_parser()._subparsers._group_actions[0].choices["clean"]
    known = {s for a in clean._actions for s in a.option_strings}
    for flag in re.findall(r"--[a-z-]+", usage):
        assert flag in known, flag
