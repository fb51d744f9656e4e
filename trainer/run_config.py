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

Unknown keys fail at load with the path that holds them (`corpus_tools.config.load`).
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from typing import Optional

from corpus_tools.config import ConfigError, load, read_file
from trainer.schedule import LRSchedule


@dataclass(frozen=True)
class DataConfig:
    blends: str = ""  # a `ziya mix` blends JSON
    seq_length: int = 0  # 0: the model config's
    micro_batch_size: int = 4
    global_batch_size: int = 16  # = micro x dp x gradient-accumulation steps
    steps: int = 0  # optimizer steps of the whole run; 0: until every stage's token budget is spent
    cache_dir: str = ""  # megatron-core's sample-index cache; "": OUT/data_cache

    def __post_init__(self) -> None:
        if self.micro_batch_size <= 0 or self.global_batch_size % self.micro_batch_size:
            raise ValueError("global_batch_size must be a positive multiple of micro_batch_size")


@dataclass(frozen=True)
class ParallelConfig:
    tp: int = 1


@dataclass(frozen=True)
class OptimizerConfig:
    """AdamW with LLaMA-2's betas and weight decay."""
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping


@dataclass(frozen=True)
class CheckpointConfig:
    save_interval: int = 0  # also save every N steps (0: only at the end)
    resume: bool = True  # continue from OUT/checkpoints' latest checkpoint if there is one
    init_from: str = ""  # a checkpoint (e.g. `ziya` HF import) to take model weights from at step 0
    exit_after_steps: int = 0  # save and stop after this step as if killed (tests, time-limited jobs)


@dataclass(frozen=True)
class StabilityConfig:
    """Skip the update of a step whose loss or gradient norm is NaN/Inf, or whose loss exceeds
    spike_factor x the mean of the last spike_window accepted losses."""
    spike_factor: float = 3.0  # 0 disables spike detection
    spike_window: int = 20
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
    log_interval: int = 1  # console line every N steps (metrics.jsonl and TensorBoard: every step)
    peak_tflops: float = 0.0  # per device, for MFU; 0: the GPU's datasheet peak (CPU: n/a)
    batch_hash: bool = False  # log a digest of each global batch's samples (tests; one gather per step)


@dataclass(frozen=True)
class RunConfig:
    model: str = "tiny"
    device: str = "cpu"
    precision: str = "auto"  # auto (bf16 on cuda, fp32 on cpu) | bf16 | fp32
    attention: str = "sdpa"
    seed: int = 1234
    out: str = "out/train"
    data: DataConfig = field(default_factory=DataConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: LRSchedule = field(default_factory=LRSchedule)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    stability: StabilityConfig = field(default_factory=StabilityConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda, got {self.device!r}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")
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
    stability = data.get("stability")
    if isinstance(stability, dict) and "inject" in stability:  # TOML arrays load as lists
        stability["inject"] = tuple(stability["inject"])
    return load(RunConfig, data)


def from_dict(data: dict) -> RunConfig:
    """A RunConfig from `to_dict()`'s output (e.g. a checkpoint's state.json)."""
    data = {**data, "stability": {**data.get("stability", {}),
                                  "inject": tuple(data.get("stability", {}).get("inject", ()))}}
    return load(RunConfig, data)
