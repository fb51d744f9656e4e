"""The training run's typed config, from a TOML file plus `--set section.key=value` overrides.

    model = "tiny"            # a name from trainer.config.MODEL_CONFIGS; vocab_size comes from the blends
    device = "cpu"            # cpu | cuda
    out = "out/train"         # metrics.jsonl, tensorboard/, checkpoints/, data_cache/, config.json
    [data]      blends, seq_length, micro_batch_size, global_batch_size, steps
    [parallel]  tp            # dp = world size / tp (torchrun --nproc-per-node x nodes)
    [optimizer] weight_decay, beta1, beta2, grad_clip
    [schedule]  kind, lr, min_lr, warmup_steps, decay_fraction   (trainer.schedule.LRSchedule)
    [checkpoint] save_interval, resume, init_from
    [stability] spike_factor, spike_window, inject
    [metrics]   log_interval, peak_tflops, batch_hash

Unknown keys and values of the wrong type or out of range fail at load, naming the key
(`corpus_tools.config.load`), before torch is imported.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from typing import Annotated, Literal, Optional

from corpus_tools.config import (ConfigError, NonNegativeFloat, NonNegativeInt, PositiveInt, Range, load,
                                 read_file)
from trainer.schedule import LRSchedule


Beta = Annotated[float, Range(0, 1, high_open=True)]  # an Adam moment decay: 1 would never forget


@dataclass(frozen=True)
class DataConfig:
    blends: str = ""  # a `ziya mix` blends JSON
    seq_length: NonNegativeInt = 0  # 0: the model config's
    micro_batch_size: PositiveInt = 4
    global_batch_size: PositiveInt = 16  # = micro x dp x gradient-accumulation steps
    steps: NonNegativeInt = 0  # optimizer steps of the whole run; 0: until every stage's token budget is spent
    cache_dir: str = ""  # megatron-core's sample-index cache; "": OUT/data_cache

    def __post_init__(self) -> None:
        if self.global_batch_size % self.micro_batch_size:
            raise ValueError("global_batch_size must be a multiple of micro_batch_size")


@dataclass(frozen=True)
class ParallelConfig:
    tp: PositiveInt = 1


@dataclass(frozen=True)
class OptimizerConfig:
    """AdamW with LLaMA-2's betas and weight decay."""
    weight_decay: NonNegativeFloat = 0.1
    beta1: Beta = 0.9
    beta2: Beta = 0.95
    grad_clip: NonNegativeFloat = 1.0  # max global gradient norm; 0 disables clipping


@dataclass(frozen=True)
class CheckpointConfig:
    save_interval: NonNegativeInt = 0  # also save every N steps (0: only at the end)
    resume: bool = True  # continue from OUT/checkpoints' latest checkpoint if there is one
    init_from: str = ""  # a checkpoint (e.g. `ziya` HF import) to take model weights from at step 0
    exit_after_steps: NonNegativeInt = 0  # save and stop after this step as if killed (tests, time-limited jobs)


@dataclass(frozen=True)
class StabilityConfig:
    """Skip the update of a step whose loss or gradient norm is NaN/Inf, or whose loss exceeds
    spike_factor x the mean of the last spike_window accepted losses."""
    spike_factor: NonNegativeFloat = 3.0  # 0 disables spike detection
    spike_window: PositiveInt = 20
    inject: tuple[str, ...] = ()  # test hook: "nan@STEP" or "spike@STEP" corrupts that step's loss

    def __post_init__(self) -> None:
        for item in self.inject:
            kind, _, step = item.partition("@")
            if kind not in ("nan", "spike") or not step.isdigit():
                raise ValueError(f"stability.inject entries are 'nan@STEP' or 'spike@STEP', got {item!r}")

    def injected(self, step: int) -> Optional[str]:
        for item in self.inject:
            kind, _, at = item.partition("@")
            if int(at) == step:
                return kind
        return None


@dataclass(frozen=True)
class MetricsConfig:
    log_interval: PositiveInt = 1  # console line every N steps (metrics.jsonl and TensorBoard: every step)
    peak_tflops: NonNegativeFloat = 0.0  # per device, for MFU; 0: the GPU's datasheet peak (CPU: n/a)
    batch_hash: bool = False  # log a digest of each global batch's samples (tests; one gather per step)


@dataclass(frozen=True)
class RunConfig:
    model: str = "tiny"
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 on cuda, fp32 on cpu
    attention: Literal["sdpa", "local"] = "sdpa"  # trainer.model.ATTENTION_BACKENDS
    seed: NonNegativeInt = 1234  # numpy's RandomState, which orders samples, takes no negative seed
    out: str = "out/train"
    data: DataConfig = field(default_factory=DataConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: LRSchedule = field(default_factory=LRSchedule)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    stability: StabilityConfig = field(default_factory=StabilityConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def __post_init__(self) -> None:
        if not self.data.blends:
            raise ValueError("data.blends is required (a `ziya mix` blends JSON)")

    @property
    def bf16(self) -> bool:
        return self.precision == "bf16" or (self.precision == "auto" and self.device == "cuda")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def parse_override(item: str) -> tuple[list[str], object]:
    """"schedule.lr=1e-3" -> (["schedule", "lr"], 0.001): the value is read as TOML (numbers, booleans,
    quoted strings, lists); anything TOML cannot read is taken as a bare string."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def load_run_config(path: Optional[str], overrides: list[str] = ()) -> RunConfig:
    data = read_file(path)
    for item in overrides:
        keys, value = parse_override(item)
        table = data
        for k in keys[:-1]:
            table = table.setdefault(k, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {item}: {k} is not a table")
        table[keys[-1]] = value
    return load(RunConfig, data)


def from_dict(data: dict) -> RunConfig:
    """A RunConfig from `to_dict()`'s output (e.g. a checkpoint's state.json)."""
    return load(RunConfig, data)
