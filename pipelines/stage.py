"""What every stage does around its work: output directory rules, phases, stats files.

A stage writes into `<output>.incomplete/` and renames it to `<output>/` only when all
of it is written, so an output directory is always one whole run: re-running a finished
stage with the same config is a no-op, and anything else in the way is refused unless
the user asks to overwrite it. Never a silent mix of two runs.

An interrupted run resumes: each unit of work (a split) marks itself done with its stats in
`<output>.incomplete/_done/<part>.json` after its files are in place, and a re-run with the
same config and the same work plan skips the marked parts. A different config or plan
starts over.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from contextlib import contextmanager

from corpus_tools.readers import plan_splits

SUCCESS = "_SUCCESS"
RUN = "_run.json"  # the config and work plan of the run being written
DONE = "_done"  # one stats file per finished part


def part_done(tmp_dir: str, part: str) -> dict | None:
    """The stats a finished part recorded, or None if it has not finished."""
    path = os.path.join(tmp_dir, DONE, f"{part}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def mark_part_done(tmp_dir: str, part: str, stats: dict) -> None:
    """Record a part as finished; call only once its output files are in place."""
    os.makedirs(os.path.join(tmp_dir, DONE), exist_ok=True)
    _write_atomically(os.path.join(tmp_dir, DONE, f"{part}.json"), json.dumps(stats))


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def resolve_stage_inputs(inputs: list[str]) -> list[str]:
    """A finished stage's output directory stands for its `kept/`."""
    return [os.path.join(p, "kept") if os.path.exists(os.path.join(p, SUCCESS)) and os.path.isdir(os.path.join(p, "kept"))
            else p for p in inputs]


def contract_parquet(files: list[str], text_field: str) -> bool:
    """Whether every file is Parquet that already follows the document contract (an `id` and the
    text column, as a stage's kept/): such input is read as is, not parsed record by record."""
    import pyarrow.parquet as pq

    from corpus_tools.readers import file_format

    return all(file_format(f)[0] == "parquet" and {"id", text_field} <= set(pq.read_schema(f).names) for f in files)


def plan_parts(inputs: list[str], split_bytes: int) -> list[dict]:
    """The work plan over input files: one row per split, named by the part file it writes."""
    return [{"part": f"part-{i:05d}", **s.__dict__} for i, s in enumerate(plan_splits(inputs, split_bytes))]


def unit_tasks(spark, units: list[dict], work, ddl: str):
    """A DataFrame (schema `ddl`) of the Arrow record batches `work(unit)` yields for every unit of
    a plan, one Spark task per unit, run in Python workers.

    The tasks are `spark.range(n)` with one id per partition and the plan a broadcast: it reaches
    the workers without a Python RDD (which would fork a second set of Python workers and convert
    its rows through the JVM), and each worker reads it once, not once per task."""
    plan = spark.sparkContext.broadcast(units)

    def run(id_batches):
        for batch in id_batches:
            for i in batch.column("id").to_pylist():
                yield from work(plan.value[i])

    return spark.range(0, len(units), 1, max(len(units), 1)).mapInArrow(run, ddl)


def each_unit(spark, units: list[dict], work) -> list[str]:
    """`work(unit)` (a string) for every unit, one Spark task each (`unit_tasks`), collected."""
    def one(unit: dict):
        import pyarrow as pa

        yield pa.RecordBatch.from_pydict({"result": [work(unit)]})

    return [r.result for r in unit_tasks(spark, units, one, "result string").collect()] if units else []


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

    def finished_stats(self, stage: str) -> dict | None:
        """The stats of a finished run of this exact config (said on stderr), None when the stage
        must run; raises as `already_done` when the output holds something else."""
        if not self.already_done():
            return None
        print(f"[{stage}] {self.path} already holds this run (same config); nothing to do", file=sys.stderr)
        with open(os.path.join(self.path, "stats.json"), encoding="utf-8") as f:
            return json.load(f)

    def begin(self, plan: list) -> int:
        """Prepare the temporary directory; return how many parts an interrupted run of the same
        config and plan already finished (they are kept), else start afresh and return 0."""
        run = {"config": json.loads(self.config_json), "plan": plan}
        run_file = os.path.join(self.tmp, RUN)
        if os.path.exists(run_file):
            with open(run_file, encoding="utf-8") as f:
                if json.load(f) == run:
                    done = os.path.join(self.tmp, DONE)
                    return len(os.listdir(done)) if os.path.isdir(done) else 0
        if os.path.exists(self.tmp):
            shutil.rmtree(self.tmp)
        os.makedirs(self.tmp)
        _write_atomically(run_file, json.dumps(run, sort_keys=True))
        return 0

    def subdir(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def commit(self, stats: dict) -> None:
        shutil.rmtree(os.path.join(self.tmp, DONE), ignore_errors=True)
        os.remove(os.path.join(self.tmp, RUN))
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
