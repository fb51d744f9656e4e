"""The `ziya` command: help without heavy imports, one-line errors for expected failures."""
from __future__ import annotations

import subprocess
import sys

from ziya.cli import main


def test_help_is_fast_and_imports_no_engine():
    code = "import sys; from ziya.cli import build_parser; build_parser(); print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["clean", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "out")]) == 2
    assert "input path does not exist" in capsys.readouterr().err


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[langid]\nmin_scor = 0.5\n")
    assert main(["clean", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown key(s) ['min_scor']" in capsys.readouterr().err


def test_unknown_filter_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[filters]\ngopher = {}\n")
    assert main(["clean", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown filter(s) ['gopher']" in capsys.readouterr().err
