"""`ziya run PIPELINE.toml`: the whole recipe as one resumable pipeline, on one Spark session.

    ziya run recipes/demo.toml [--dry-run] [--master URL] [--conf KEY=VALUE]

A pipeline file names the inputs, the output root and the stages in order:

    output = "out"                          # stage NAME writes <output>/NAME
    inputs = ["data/sample"]                # what the first stage reads; each next one reads the last output
    [[stages]]
    stage = "clean"                         # clean, dedup, decontaminate, score, pack, mix, train: in this
    config = { langid = { allowed = ["zh", "en"] } }   # order, any left out; config: a table or a file
    [[stages]]
    stage = "mix"
    recipe = "recipes/ziya2_demo.toml"      # writes <output>/blends.json from the pack before it
    [[stages]]
    stage = "train"
    config = "configs/train_tiny_demo.toml" # trains on the blends; `set` overrides, `nproc` processes

Relative paths are relative to the current directory, as for every ziya command. Everything is
checked before any work: unknown keys or stages, stages out of order, configs (each
stage's own validation), inputs and the files configs name that do not exist: one line each.

Re-running. Each step records, in `<output>/_pipeline/<name>.json`, the lineage it was started
from: a digest of the pipeline's input listing, then of every earlier step's config.json (which
holds its identity: config, models, benchmark digests) in turn. A step whose lineage is the same
runs its stage as `ziya <stage>` would: a finished output of the same config is a no-op, a killed
one resumes at the part where it stopped, a changed config re-runs it. A step whose lineage
changed (an earlier step re-ran with another config, or the inputs changed) starts afresh, so
changing one stage's config re-runs it and the ones after it only.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field

from corpus_tools import storage
from corpus_tools.config import ConfigError, read_file

ORDER = ("clean", "dedup", "decontaminate", "score", "pack", "mix", "train")
RECORDS = "_pipeline"
BLENDS = "blends.json"
KEYS = {"stage", "name", "config"}
EXTRA_KEYS = {"mix": {"recipe"}, "train": {"set", "nproc"}}


class PipelineError(ConfigError):
    pass


@dataclass
class Step:
    name: str
    stage: str  # one of ORDER
    cfg: object = None  # Spark stages: the stage's config
    engine: object = None
    options: dict = field(default_factory=dict)  # mix: recipe; train: config, set, nproc

    @property
    def spark(self) -> bool:
        return self.stage not in ("mix", "train")


@dataclass
class Pipeline:
    path: str
    output: str
    inputs: list[str]
    steps: list[Step]

    def out(self, step: Step) -> str:
        return storage.join(self.output, BLENDS if step.stage == "mix" else step.name)


# ---------------------------------------------------------------- reading and checking

def load(path: str) -> Pipeline:
    """The pipeline file, checked whole before anything runs."""
    from pipelines.stage import resolve_paths
    from pipelines.stages import STAGES

    data = read_file(path)
    unknown = set(data) - {"output", "inputs", "stages"}
    if unknown:
        raise PipelineError(f"{path}: unknown key(s) {sorted(unknown)} (expected output, inputs, [[stages]])")
    if not isinstance(data.get("output"), str) or not data.get("stages"):
        raise PipelineError(f"{path}: needs `output = \"DIR\"` and at least one [[stages]] entry")
    inputs = data.get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise PipelineError(f"{path}: inputs must be a list of paths")
    steps, names = [], set()
    for number, entry in enumerate(data["stages"], 1):
        where = f"{path}: stage {number}"
        stage = entry.get("stage") if isinstance(entry, dict) else None
        if stage not in ORDER:
            raise PipelineError(f"{where}: unknown stage {stage!r} (expected one of {', '.join(ORDER)})")
        extra = set(entry) - KEYS - EXTRA_KEYS.get(stage, set())
        if extra:
            raise PipelineError(f"{where} ({stage}): unknown key(s) {sorted(extra)}")
        if steps and ORDER.index(stage) <= ORDER.index(steps[-1].stage):
            raise PipelineError(f"{where}: {stage} cannot come after {steps[-1].stage} (the order is "
                                f"{' -> '.join(ORDER)})")
        name = entry.get("name", stage)
        if name in names or name in (RECORDS, BLENDS) or "/" in name:
            raise PipelineError(f"{where}: the output name {name!r} is taken or not a plain name")
        names.add(name)
        step = Step(name, stage)
        config = entry.get("config", {})
        if step.spark:
            table = read_file(config) if isinstance(config, str) else dict(config)
            try:
                step.cfg, step.engine = STAGES[stage].load_config(table)
            except ConfigError as exc:
                raise PipelineError(f"{where} ({stage}): {exc}") from None
            step.cfg = resolve_paths(step.cfg, STAGES[stage].paths)
            _check_named_files(step, where)
        else:
            step.options = {k: v for k, v in entry.items() if k not in ("stage", "name")}
            if stage == "mix" and not isinstance(entry.get("recipe"), str):
                raise PipelineError(f"{where} (mix): needs `recipe = \"FILE\"`")
            if stage == "train" and not isinstance(config, str):
                raise PipelineError(f"{where} (train): needs `config = \"FILE\"` (a training config)")
            for key in ("recipe", "config"):
                if isinstance(step.options.get(key), str):
                    step.options[key] = storage.resolve(step.options[key])
                    if not os.path.exists(step.options[key]):
                        raise PipelineError(f"{where} ({stage}): {key} does not exist: {step.options[key]}")
        steps.append(step)
    _check_needs(steps, path)
    if steps[0].spark and not inputs:
        raise PipelineError(f"{path}: inputs = [...] names what {steps[0].stage} reads")
    for p in inputs:
        try:
            storage.check_readable(storage.resolve(p))
        except (storage.StorageError, FileNotFoundError) as exc:
            raise PipelineError(f"{path}: input {p}: {exc}") from None
    return Pipeline(path, storage.resolve(data["output"]), [storage.resolve(p) for p in inputs], steps)


def _check_named_files(step: Step, where: str) -> None:
    """Files a stage's config names (models, lists, benchmarks) exist, said now rather than after
    the stages before it ran."""
    from pipelines.stages import STAGES

    for dotted in STAGES[step.stage].paths:
        value = step.cfg
        for part in dotted.split("."):
            value = getattr(value, part)
        for p in value if isinstance(value, (list, tuple)) else [value]:
            if p and storage.is_local(p) and not os.path.exists(p):
                raise PipelineError(f"{where} ({step.stage}): {dotted.split('.')[-1]} does not exist: {p}")


def _check_needs(steps: list[Step], path: str) -> None:
    stages = [s.stage for s in steps]
    for stage, needs in (("score", "clean"), ("mix", "pack"), ("train", "mix")):
        if stage in stages and needs not in stages[: stages.index(stage)]:
            raise PipelineError(f"{path}: {stage} needs {needs} before it in the pipeline")


# ---------------------------------------------------------------- lineage

def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def inputs_digest(inputs: list[str]) -> str:
    """What the first step reads: every input file with its size."""
    roots = storage.stage_inputs(inputs)
    files = [(p, s) for root in roots
             for p, s in (storage.list_files(root) if storage.is_dir(root) else [(root, storage.size(root))])]
    return _digest(json.dumps(roots), json.dumps(files))


def record_path(pipe: Pipeline, step: Step) -> str:
    return storage.join(pipe.output, RECORDS, f"{step.name}.json")


def read_record(pipe: Pipeline, step: Step) -> dict | None:
    try:
        return storage.read_json(record_path(pipe, step))
    except FileNotFoundError:
        return None


def step_identity(pipe: Pipeline, step: Step) -> str:
    """What a finished step passes on to the next one's lineage."""
    if step.spark:
        return storage.read_bytes(storage.join(pipe.out(step), "config.json")).decode()
    files = [step.options.get("recipe"), step.options.get("config")]
    return json.dumps([storage.read_bytes(f).decode() for f in files if f] + [step.options.get("set", {}),
                                                                               step.options.get("nproc")],
                      sort_keys=True)


# ---------------------------------------------------------------- the plan

def step_state(pipe: Pipeline, step: Step, lineage: str | None) -> str:
    """What running `step` would do now (for --dry-run): `up to date`, `resume (k of n parts done)`,
    `run (...)`. `lineage` None: an earlier step will run first."""
    if lineage is None:
        return "run (after an earlier step)"
    record = read_record(pipe, step)
    if record is None:
        return "run (new)"
    if record["upstream"] != lineage:
        return "run (its input changed)"
    out = pipe.out(step)
    if step.spark:
        incomplete = out + ".incomplete"
        if storage.is_finished_stage(out) and record.get("done"):
            return "up to date" if _same_config(step, out) else "run (its config changed)"
        if storage.exists(storage.join(incomplete, "_run.json")):
            done = len(storage.list_files(storage.join(incomplete, "_done")))
            return f"resume ({done} parts done)"
        return "run"
    if record.get("done") and record.get("identity") == _digest(step_identity(pipe, step)):
        return "up to date"
    return "run"


def _same_config(step: Step, out: str) -> bool:
    from pipelines.stage import _named
    from pipelines.stages import STAGES
    from corpus_tools.config import dumps

    stage = STAGES[step.stage]
    prepared = _named(stage.prepare)(step.cfg) if stage.prepare else None
    identity = _named(stage.identity)(step.cfg, prepared) if stage.identity else dumps(step.cfg)
    return storage.read_json(storage.join(out, "config.json")) == json.loads(identity)


def plan(pipe: Pipeline) -> list[tuple[Step, str]]:
    lineage = inputs_digest(pipe.inputs) if pipe.inputs else _digest("no inputs")
    rows = []
    for step in pipe.steps:
        state = step_state(pipe, step, lineage)
        rows.append((step, state))
        if state == "up to date":
            lineage = _digest(lineage, step_identity(pipe, step))
        else:
            lineage = None
    return rows


def print_plan(pipe: Pipeline, rows) -> None:
    print(f"pipeline {pipe.path}: {len(rows)} steps, output in {pipe.output}")
    for i, (step, state) in enumerate(rows, 1):
        reads = "the inputs" if i == 1 else rows[i - 2][0].name
        print(f"  {i}. {step.stage:<14} {step.name:<14} reads {reads:<14} -> {state}")


# ---------------------------------------------------------------- running

def run(pipe: Pipeline, session) -> list[dict]:
    """Run every step in order (see the module docstring); one row per step for the funnel."""
    storage.make_dirs(storage.join(pipe.output, RECORDS))
    rows = []
    with storage.exclusive_lock(storage.join(pipe.output, RECORDS) + ".lock", "run", pipe.output):
        lineage = inputs_digest(pipe.inputs) if pipe.inputs else _digest("no inputs")
        source = pipe.inputs
        for step in pipe.steps:
            start = time.perf_counter()
            state, summary = run_step(pipe, step, lineage, source, session)
            seconds = time.perf_counter() - start
            identity = step_identity(pipe, step)
            storage.write_json(record_path(pipe, step), {"upstream": lineage, "done": True, "seconds": round(seconds, 3),
                                                         "identity": _digest(identity)})
            rows.append({"step": step, "state": state, "seconds": seconds, "summary": summary})
            lineage = _digest(lineage, identity)
            if step.spark:
                source = [pipe.out(step)]
    return rows


def run_step(pipe: Pipeline, step: Step, lineage: str, source: list[str], session) -> tuple[str, dict]:
    """(what happened, the step's summary)."""
    from pipelines.stage import OutputExists
    from pipelines.stages import STAGES

    out = pipe.out(step)
    record = read_record(pipe, step)
    if record is None or record["upstream"] != lineage:
        _remove(out)  # another input: nothing of an earlier run is reused
        storage.write_json(record_path(pipe, step), {"upstream": lineage, "done": False})
    print(f"[run] {step.name}: {step.stage} -> {out}", file=sys.stderr, flush=True)
    if not step.spark:
        if record and record.get("done") and record["upstream"] == lineage and storage.exists(out) \
                and record.get("identity") == _digest(step_identity(pipe, step)):
            print(f"[run] {step.name}: up to date", file=sys.stderr)
            return "up to date", {}
        return "ran", run_mix(pipe, step) if step.stage == "mix" else run_train(pipe, step)
    stage = STAGES[step.stage]
    resumed = storage.exists(storage.join(out + ".incomplete", "_run.json"))
    finished = storage.is_finished_stage(out)
    try:
        summary = stage.run(session, source, out, step.cfg, False, step.engine)
    except OutputExists:  # a finished run of another config: this config replaces it
        _remove(out)
        finished = False
        summary = stage.run(session, source, out, step.cfg, False, step.engine)
    return ("up to date" if finished else "resumed" if resumed else "ran"), summary


def _remove(out: str) -> None:
    for path in (out, out + ".incomplete"):
        if storage.exists(path) or storage.is_dir(path):
            storage.remove_tree(path) if storage.is_dir(path) else storage.remove(path)


def _previous_spark_output(pipe: Pipeline, step: Step) -> str:
    before = [s for s in pipe.steps[: pipe.steps.index(step)] if s.spark]
    return pipe.out(before[-1])


def run_mix(pipe: Pipeline, step: Step) -> dict:
    from corpus_tools.mix import build_blends, format_table

    blends = build_blends(step.options["recipe"], [_previous_spark_output(pipe, step)])
    storage.write_atomically(pipe.out(step), json.dumps(blends, indent=2))
    print(format_table(blends), file=sys.stderr)
    return {"stages": len(blends["stages"])}


def run_train(pipe: Pipeline, step: Step) -> dict:
    from trainer import launch

    mix = [s for s in pipe.steps if s.stage == "mix"][-1]
    overrides = [f"{k}={json.dumps(v)}" for k, v in step.options.get("set", {}).items()]
    overrides += [f"out={json.dumps(storage.join(pipe.output, step.name))}", f"data.blends={json.dumps(pipe.out(mix))}"]
    rc = launch.run(step.options["config"], overrides, nproc=int(step.options.get("nproc", 1)))
    if rc:
        raise RuntimeError(f"training exited with {rc}")
    return {"out": storage.join(pipe.output, step.name)}


# ---------------------------------------------------------------- the funnel

def funnel(rows: list[dict]) -> list[str]:
    """One line per step: documents in and out, what was dropped and quarantined, tokens, time."""
    lines = [f"{'step':<14} {'stage':<14} {'in':>9} {'out':>9} {'dropped':>9} {'quarant.':>9} {'tokens':>12} "
             f"{'seconds':>8}  state"]
    for row in rows:
        step, s = row["step"], row["summary"]
        if step.spark:
            out = s.get("kept", s.get("packed", 0))
            quarantined = s.get("quarantined", 0)
            dropped = s["input"] - out - quarantined
            tokens = f"{s['tokens']:,}" if "tokens" in s else ""
            lines.append(f"{step.name:<14} {step.stage:<14} {s['input']:>9,} {out:>9,} {dropped:>9,} {quarantined:>9,} "
                         f"{tokens:>12} {row['seconds']:>8.1f}  {row['state']}")
        else:
            lines.append(f"{step.name:<14} {step.stage:<14} {'':>9} {'':>9} {'':>9} {'':>9} {'':>12} "
                         f"{row['seconds']:>8.1f}  {row['state']}")
    return lines
