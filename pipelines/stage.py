"""What every stage does around its work: output directory rules, phases, stats files.

A stage writes into `<output>.incomplete/` and renames it to `<output>/` only when all
of it is written, so an output directory is always one whole run: re-running a finished
stage with the same config is a no-op, and anything else in the way is refused unless
the user asks to overwrite it. Never a silent mix of two runs.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from contextlib import contextmanager

SUCCESS = "_SUCCESS"


class OutputExists(RuntimeError):
    pass


class StageOutput:
    def __init__(self, path: str, config_json: str, overwrite: bool = False):
        self.path = os.path.abspath(path)
        self.tmp = self.path + ".incomplete"
        self.config_json = config_json
        self.overwrite = overwrite

    def already_done(self) -> bool:
        """True when `path` holds a finished run of this exact config; raises if it holds anything else."""
        if not os.path.exists(self.path):
            return False
        if self.overwrite:
            shutil.rmtree(self.path)
            return False
        config_file = os.path.join(self.path, "config.json")
        if os.path.exists(os.path.join(self.path, SUCCESS)) and os.path.exists(config_file):
            with open(config_file, encoding="utf-8") as f:
                if json.load(f) == json.loads(self.config_json):
                    return True
            raise OutputExists(
                f"{self.path} holds a finished run with a different config; "
                "choose another --output or pass --overwrite to replace it"
            )
        raise OutputExists(f"{self.path} exists and is not a finished run of this stage; pass --overwrite to replace it")

    def begin(self) -> str:
        """Start a fresh temporary directory (a crashed earlier attempt's leftovers are discarded)."""
        if os.path.exists(self.tmp):
            shutil.rmtree(self.tmp)
        os.makedirs(os.path.dirname(self.tmp) or ".", exist_ok=True)
        return self.tmp

    def subdir(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def commit(self, stats: dict) -> None:
        with open(os.path.join(self.tmp, "stats.json"), "w", encoding="utf-8") as f:
            json.dump(stats, f, indent=2, sort_keys=True, ensure_ascii=False)
        with open(os.path.join(self.tmp, "config.json"), "w", encoding="utf-8") as f:
            f.write(self.config_json)
        open(os.path.join(self.tmp, SUCCESS), "w").close()
        os.replace(self.tmp, self.path)


class Phases:
    """Times named phases and prints progress lines, so a long run shows where it is."""

    def __init__(self, stage: str):
        self.stage = stage
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        print(f"[{self.stage}] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        print(f"[{self.stage}] {name} done in {self.seconds[name]:.1f}s", file=sys.stderr, flush=True)
