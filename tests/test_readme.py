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


def _subparser(parser, words: list[str]):
    """The deepest subcommand parser the words name, and how many words named it."""
    used = 0
    for word in words:
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs or word not in subs[0].choices:
            break
        parser, used = subs[0].choices[word], used + 1
    return parser, used


def test_every_documented_ziya_command_and_flag_exists():
    commands = re.findall(r"^(?:\.venv/bin/|\$\(BIN\)/)?ziya (?![a-z ]+: error: )([^\n`]*)", README, re.M)  # not error output
    assert len(commands) >= 15
    for line in commands:
        words = line.split()
        parser, used = _subparser(build_parser(), words)
        assert used >= 1, line
        known = {s for a in parser._actions for s in a.option_strings}
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line):
            assert flag in known, (line, flag)


def test_reliability_table_names_the_readers_reasons():
    """Every quarantine reason the README's reliability table shows is one the readers write, and
    every reason the readers write is in the table."""
    table = README.split("## Reliability", 1)[1].split("**Configs**", 1)[0]
    shown = set(re.findall(r"`([a-z_0-9]+)(?::[^`]*)?`", table.split("| `error` |", 1)[1]))
    source = "".join(open(os.path.join(REPO, "corpus_tools", name), encoding="utf-8").read()
                     for name in ("readers.py", "warc.py"))
    written = set(re.findall(r'(?:quarantine\([^,]+, f?|return f?|error = f?|_end\(f?|NESTED_TOO_DEEP = )"([a-z_0-9]+)[:"]', source))
    written = {r for r in written if "_" in r}
    assert written and shown == written, (shown - written, written - shown)
