"""The one stage framework: a stage is declared once (`Stage`, see pipelines/stages.py), and
`Stage.run` owns everything around its work: paths resolved on the driver, pre-checks, the
output's lock, resume, phases, commit, the summary.

Outputs are whole runs. A stage writes into `<output>.incomplete/` and publishes it as `<output>/`
only when all of it is written, `_SUCCESS` last, so an output is always one whole run: re-running
a finished stage with the same config is a no-op, and anything else in the way is refused unless
the user asks to overwrite it. On local disk publishing is one rename; on an object store (no
rename) every object is copied server-side and `_SUCCESS` written after them, so a reader that
trusts only outputs with `_SUCCESS` never sees a partial one (corpus_tools.storage).

An interrupted run resumes: each unit of work marks itself done with its stats in
`<output>.incomplete/_done/<part>.json` after its files are in place, and a re-run with the same
config and the same work plan skips the marked parts. A different config or plan starts over.

One run per output: a run holds `<output>.lock` from before it writes anything until it ends
(`corpus_tools.storage.exclusive_lock`, the lock every writer uses: O_EXCL on disk, a conditional
PUT on S3); a second run is refused with `OutputLocked` naming the first one's stage, host, pid and
start time. A lock left by a killed run on this host is taken over.
"""
from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

from corpus_tools import storage

RUN = "_run.json"  # the config and work plan of the run being written
DONE = "_done"  # one stats file per finished part
SUCCESS = storage.SUCCESS


# ---------------------------------------------------------------- declaring a stage

@dataclass(frozen=True)
class Option:
    """A command-line flag of a stage, laid over one key of its config (`input.text_field`)."""

    flag: str
    key: str
    help: str
    type: Callable | None = str  # None: a switch that sets `value` when given
    value: Any = None
    repeat: bool = False  # the flag may be given more than once; the key gets the list of values
    metavar: str | None = None

    @property
    def dest(self) -> str:
        """argparse's attribute name for the flag."""
        return self.flag.lstrip("-").replace("-", "_")

    def apply(self, data: dict, given) -> None:
        if given is None or given is False:
            return
        *tables, name = self.key.split(".")
        for table in tables:
            data = data.setdefault(table, {})
        data[name] = self.value if self.type is None else given


def commas(text: str) -> list[str]:
    """An Option type: `zh,en` -> ["zh", "en"]."""
    return [part for part in text.split(",") if part]


def _named(ref: str):
    """`module:attribute` -> the object (stage declarations name their code lazily, so `ziya
    --help` imports none of it)."""
    module, _, name = ref.partition(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Stage:
    """One stage: its name, config class, flags, pre-checks, Spark settings and its work.

    `work(run) -> summary` does the stage's phases; `prepare(cfg) -> anything` runs the checks
    that need no input (models, tokenizers) on the driver, once, before anything else (its result
    is `run.prepared`); `identity(cfg, prepared) -> str` is the config as saved in config.json and
    compared on rerun."""

    name: str
    help: str
    config: str  # "module:Class" with a from_dict(dict)
    work: str  # "module:function"
    summary: str  # "module:function(summary, path)" printing the closing lines
    input_help: str
    output_help: str
    options: tuple[Option, ...] = ()
    prepare: str | None = None
    identity: str | None = None
    engine: str | None = None  # "module:Class" of Spark-only settings: the config file's [spark] table
    paths: tuple[str, ...] = ()  # config fields naming files (dotted: "langid.model_path"), made absolute on the driver
    partitions_per_core: int = 2  # shuffle partitions per core of the session (local or cluster)
    adaptive: bool = True  # adaptive execution (coalesces small shuffle partitions)

    def load_config(self, data: dict) -> tuple:
        """(the stage's config, its Spark-only settings or None) from a config file's table; the
        `[spark]` table holds settings that change how, never what, the stage computes."""
        data = dict(data)
        engine = data.pop("spark", None) if self.engine else None
        return _named(self.config).from_dict(data), (_named(self.engine).from_dict(engine) if self.engine else None)

    def run(self, spark, inputs: list[str], output: str, cfg, overwrite: bool = False, engine=None) -> dict:
        """Run the stage: `spark` is a SparkSession or a function that makes one, called only when
        the work first needs it (after every pre-check); `engine` its Spark-only settings
        (default: the defaults of the `engine` class)."""
        from corpus_tools.config import dumps
        from corpus_tools.readers import input_files

        inputs = [storage.resolve(p) for p in inputs]
        cfg = resolve_paths(cfg, self.paths)
        out = StageOutput(storage.resolve(output), "", overwrite)
        storage.check_writable(out.path)  # an unreachable store, a missing bucket or credentials: said now
        prepared = _named(self.prepare)(cfg) if self.prepare else None
        out.config_json = _named(self.identity)(cfg, prepared) if self.identity else dumps(cfg)
        finished = out.finished_stats(self.name)
        if finished is not None:
            return finished
        for path in inputs:
            storage.check_readable(path)
        web = getattr(getattr(cfg, "input", None), "web", None)  # where a crawl listing's entries live
        listing = input_files(storage.stage_inputs(inputs), web.paths_root if web else None)  # none: said now
        with out.lock(self.name):
            if engine is None and self.engine:
                engine = _named(self.engine)()
            run = Run(self, spark, inputs, listing, cfg, out, Phases(self.name), prepared, engine)
            summary = {**_named(self.work)(run), "inputs": inputs, "phase_seconds": run.phase.seconds}
            out.commit(summary)
        _named(self.summary)(summary, out.path)
        return summary

    def configure(self, spark) -> None:
        """This stage's shuffle settings, unless the session was started with its own: shuffle
        partitions = partitions_per_core x the cores of the session (local[N] or the cluster's
        executors), instead of Spark's fixed 200."""
        launched = spark.sparkContext.getConf()
        if not launched.contains("spark.sql.shuffle.partitions"):
            cores = spark.sparkContext.defaultParallelism
            spark.conf.set("spark.sql.shuffle.partitions", str(self.partitions_per_core * cores))
        if not launched.contains("spark.sql.adaptive.enabled"):
            spark.conf.set("spark.sql.adaptive.enabled", str(self.adaptive).lower())


def resolve_paths(cfg, names: tuple[str, ...]):
    """`cfg` with the named fields (a path or a list of paths) resolved (relative -> absolute): a task runs in its
    executor's work directory, where a path relative to the user's shell means nothing."""
    import dataclasses

    for name in names:
        head, _, rest = name.partition(".")
        value = getattr(cfg, head)
        if rest:
            cfg = dataclasses.replace(cfg, **{head: resolve_paths(value, (rest,))})
        elif isinstance(value, (list, tuple)):
            cfg = dataclasses.replace(cfg, **{head: type(value)(storage.resolve(v) for v in value)})
        elif value is not None:
            cfg = dataclasses.replace(cfg, **{head: storage.resolve(value)})
    return cfg


class Run:
    """What a stage's work is given: the session (started on first use, so checks that come first
    in the work still fail before Spark starts), resolved inputs, their listing, config, output
    and phases."""

    def __init__(self, stage: Stage, spark, inputs: list[str], listing: list, cfg, out: "StageOutput",
                 phase: "Phases", prepared=None, engine=None):
        self.stage, self.inputs, self.listing, self.cfg = stage, inputs, listing, cfg
        self.out, self.phase, self.prepared, self.engine = out, phase, prepared, engine
        self._spark, self._configured = spark, False
        self.resumed = 0

    @property
    def spark(self):
        if not self._configured:
            if callable(self._spark):
                self._spark = self._spark()
            self.stage.configure(self._spark)
            self._configured = True
        return self._spark

    def begin(self, plan: list) -> int:
        """Start (or resume) writing the output for this work plan; how many parts were finished."""
        self.resumed = self.out.begin(plan)
        if self.resumed:
            print(f"[{self.stage.name}] resuming: {self.resumed} of {len(plan)} parts were finished by an "
                  "earlier run", file=sys.stderr)
        return self.resumed

    def subdir(self, name: str) -> str:
        return self.out.subdir(name)


# ---------------------------------------------------------------- parts of a run

def part_done(tmp_dir: str, part: str) -> dict | None:
    """The stats a finished part recorded, or None if it has not finished."""
    try:
        return storage.read_json(storage.join(tmp_dir, DONE, f"{part}.json"))
    except FileNotFoundError:
        return None


def mark_part_done(tmp_dir: str, part: str, stats: dict) -> None:
    """Record a part as finished; call only once its output files are in place."""
    storage.write_atomically(storage.join(tmp_dir, DONE, f"{part}.json"), json.dumps(stats))


def contract_parquet(files: list[str], text_field: str) -> bool:
    """Whether every file is Parquet that already follows the document contract (an `id` and the
    text column, as a stage's kept/): such input is read as is, not parsed record by record."""
    from corpus_tools.readers import file_format

    return all(file_format(f)[0] == "parquet" and {"id", text_field} <= set(storage.parquet_schema(f).names)
               for f in files)


def plan_parts(files: list, split_bytes: int) -> list[dict]:
    """The work plan over raw input files (`readers.input_files`): one row per split, named by the
    part file it writes."""
    from corpus_tools.readers import file_splits

    return [{"part": f"part-{i:05d}", **s.__dict__} for i, s in enumerate(file_splits(files, split_bytes))]


def plan_row_groups(files: list[str]) -> list[dict]:
    """The work plan over Parquet files: one row per row group, named by the part it writes."""
    groups = [(f, g) for f in files for g in range(storage.parquet_file(f).num_row_groups)]
    return [{"part": f"part-{i:05d}", "path": path, "row_group": g} for i, (path, g) in enumerate(groups)]


@dataclass(frozen=True)
class StageInput:
    """A stage's input as units of work: `units` are row groups of Parquet that follows the document
    contract (a stage's kept/: read as is, every column) when `contract`, else splits of raw
    JSONL/Parquet (parsed by corpus_tools.readers, bad records to quarantine)."""

    files: list[str]
    units: list[dict]
    contract: bool
    text_column: str


def stage_input(listing: list, input_cfg) -> StageInput:
    """The one way a stage reads "a stage's output or raw files", from the run's input listing."""
    from corpus_tools.readers import InputError, file_format

    files = [f.path for f in listing]
    crawls = [f for f in files if file_format(f)[0] == "warc"]
    if crawls:  # records that are not documents are counted by clean's stats only
        raise InputError(f"{crawls[0]}: WARC/WET input is read by `ziya clean`; run it first and give this "
                         "stage its output")
    if contract_parquet(files, input_cfg.text_field):
        return StageInput(files, plan_row_groups(files), True, input_cfg.text_field)
    return StageInput(files, plan_parts(listing, input_cfg.split_bytes), False, "text")


def read_unit(unit: dict, input_cfg, quarantine_dir: str | None = None, columns: list[str] | None = None,
              with_meta: bool = True, batch_rows: int = 2048):
    """The document batches of one unit of `stage_input`: a row group as is (`columns`, or all), or
    a raw split's documents (the contract's columns); a raw split's bad records are written to
    `quarantine_dir/<part>.parquet`."""
    if "row_group" in unit:
        parquet = storage.parquet_file(unit["path"])
        yield from parquet.iter_batches(batch_size=batch_rows, row_groups=[unit["row_group"]], columns=columns)
        return
    from corpus_tools.document import QUARANTINE_SCHEMA
    from corpus_tools.readers import Split, read_split
    from corpus_tools.writers import PartWriter

    split = Split(**{k: v for k, v in unit.items() if k != "part"})
    bad = PartWriter(quarantine_dir, unit["part"], QUARANTINE_SCHEMA) if quarantine_dir else None
    for b in read_split(split, input_cfg, with_meta=with_meta):
        if bad is not None:
            bad.write(b.quarantine)
        if b.documents.num_rows:
            yield b.documents
    if bad is not None:
        bad.close()


def unit_tasks(spark, units: list[dict], work, ddl: str):
    """A DataFrame (schema `ddl`) of the Arrow record batches `work(unit)` yields for every unit of
    a plan, one Spark task per unit, run in Python workers.

    The tasks are `spark.range(n)` with one id per partition and the plan a broadcast: it reaches
    the workers without a Python RDD (which would fork a second set of Python workers and convert
    its rows through the JVM), and each worker reads it once, not once per task."""
    if not units:
        return spark.createDataFrame([], ddl)
    plan = spark.sparkContext.broadcast(units)

    def run(id_batches):
        for batch in id_batches:
            for i in batch.column("id").to_pylist():
                yield from work(plan.value[i])

    return spark.range(0, len(units), 1, len(units)).mapInArrow(run, ddl)


def each_unit(spark, units: list[dict], work) -> list[str]:
    """`work(unit)` (a string) for every unit, one Spark task each (`unit_tasks`), collected."""
    def one(unit: dict):
        import pyarrow as pa

        yield pa.RecordBatch.from_pydict({"result": [work(unit)]})

    return [r.result for r in unit_tasks(spark, units, one, "result string").collect()] if units else []


def write_partitions(df, directory: str, schema) -> int:
    """Write a DataFrame's partitions as Parquet parts `directory/part-<partition>.parquet` from the
    Python workers, through corpus_tools.storage (so to object stores too, where Spark's own writer
    would need Hadoop's S3 connector); the rows written. A retried task replaces its part whole."""
    def write(batches):
        import pyarrow as pa
        from pyspark import TaskContext

        from corpus_tools.writers import PartWriter

        writer = PartWriter(directory, f"part-{TaskContext.get().partitionId():05d}", schema)
        for batch in batches:
            writer.write(batch)
        writer.close()
        yield pa.RecordBatch.from_pydict({"rows": [writer.rows]})

    rows = df.mapInArrow(write, "rows long").collect()
    from corpus_tools.writers import ensure_schema_file

    ensure_schema_file(directory, schema)
    return sum(r.rows for r in rows)


# ---------------------------------------------------------------- the output

class OutputExists(RuntimeError):
    pass


OutputLocked = storage.LockHeld  # what a stage raises when another run writes its output


class StageOutput:
    def __init__(self, path: str, config_json: str, overwrite: bool = False):
        self.path = storage.resolve(path)
        self.tmp = self.path + ".incomplete"
        self.config_json = config_json
        self.overwrite = overwrite

    def already_done(self) -> bool:
        """True when `path` holds a finished run of this exact config; raises if it holds anything else."""
        if not self.overwrite and storage.exists(storage.join(self.tmp, SUCCESS)):  # a publish cut short: finish it
            storage.publish_tree(self.tmp, self.path, last=SUCCESS)
        if not storage.exists(self.path) and not storage.is_dir(self.path):
            return False
        if self.overwrite:
            storage.remove_tree(self.path)
            return False
        if storage.is_finished_stage(self.path):
            try:
                same = storage.read_json(storage.join(self.path, "config.json")) == json.loads(self.config_json)
            except FileNotFoundError:
                same = False
            if same:
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
        return storage.read_json(storage.join(self.path, "stats.json"))

    def lock(self, stage: str):
        """Hold `<output>.lock` for the run (see the module docstring)."""
        return storage.exclusive_lock(self.path + ".lock", stage, self.path)

    def begin(self, plan: list) -> int:
        """Prepare the temporary directory; return how many parts an interrupted run of the same
        config and plan already finished (they are kept), else start afresh and return 0."""
        run = {"config": json.loads(self.config_json), "plan": plan}
        run_file = storage.join(self.tmp, RUN)
        try:
            if storage.read_json(run_file) == run:
                return len(storage.list_files(storage.join(self.tmp, DONE)))
        except FileNotFoundError:
            pass
        storage.remove_tree(self.tmp)
        storage.make_dirs(self.tmp)
        storage.write_atomically(run_file, json.dumps(run, sort_keys=True))
        return 0

    def subdir(self, name: str) -> str:
        return storage.join(self.tmp, name)

    def commit(self, stats: dict) -> None:
        storage.remove_tree(storage.join(self.tmp, DONE))
        storage.remove(storage.join(self.tmp, RUN))
        storage.write_atomically(storage.join(self.tmp, "stats.json"),
                                 json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False))
        storage.write_atomically(storage.join(self.tmp, "config.json"), self.config_json)
        storage.write_atomically(storage.join(self.tmp, SUCCESS), "")
        storage.publish_tree(self.tmp, self.path, last=SUCCESS)


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
