"""Training data: the stages of a `ziya mix` blends file over `ziya pack` shards, read through
megatron-core's `BlendedMegatronDatasetBuilder(GPTDataset, ...)`.

Each stage is one blended dataset over its shards (prefixes + weights), with a sample order fixed by
the run's seed and the stage's index. A stage lasts `ceil(tokens / (global_batch * seq_length))`
optimizer steps; one global batch never spans two stages. The data position is (stage index, samples
consumed in that stage), saved in every checkpoint: sample j of stage k is the same sequence of
tokens in every run with the same blends, seed and seq_length, so a resumed run or a stage change
never skips or repeats a sample.

The global batch of a step is samples [p, p + global_batch) of the stage. With gradient accumulation
`acc` and `dp` data-parallel ranks, micro step m of DP rank r reads samples
p + (m * dp + r) * micro_batch ... + micro_batch (Megatron's order: a micro step's samples are
split across DP ranks in rank order).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path


class BlendsError(ValueError):
    pass


@dataclass(frozen=True)
class Stage:
    name: str
    tokens: int  # token budget
    lr_rewarm: bool
    prefixes: tuple[str, ...]  # shard paths without .bin/.idx
    weights: tuple[float, ...]

    def steps(self, global_batch: int, seq_length: int) -> int:
        return math.ceil(self.tokens / (global_batch * seq_length))


@dataclass(frozen=True)
class Blends:
    path: str
    vocab_size: int
    tokenizer_sha256: str
    stages: tuple[Stage, ...]

    @classmethod
    def read(cls, path: str) -> "Blends":
        """Load and check a blends JSON: every stage has a positive budget, weights match prefixes,
        and every shard's .bin and .idx exist."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise BlendsError(f"{path}: cannot read blends file: {exc}") from exc
        for key in ("vocab_size", "stages"):
            if key not in data:
                raise BlendsError(f"{path}: missing {key!r}")
        stages = tuple(_stage(path, k, s) for k, s in enumerate(data["stages"]))
        if not stages:
            raise BlendsError(f"{path}: no stages")
        return cls(path, int(data["vocab_size"]), data.get("tokenizer_sha256", ""), stages)


def _stage(path: str, k: int, s: dict) -> Stage:
    where = f"{path}: stage {k} ({s.get('name', '?')})"
    try:
        blend = s["blend"]
        prefixes, weights = tuple(blend["prefixes"]), tuple(float(w) for w in blend["weights"])
        stage = Stage(s["name"], int(s["tokens"]), bool(s.get("lr_rewarm", False)), prefixes, weights)
    except (KeyError, TypeError, ValueError) as exc:
        raise BlendsError(f"{where}: malformed stage: {exc!r}") from exc
    if stage.tokens <= 0 or not prefixes or len(prefixes) != len(weights) or min(weights) <= 0:
        raise BlendsError(f"{where}: needs tokens > 0 and one positive weight per prefix")
    missing = [p + ext for p in prefixes for ext in (".bin", ".idx") if not Path(p + ext).is_file()]
    if missing:
        raise BlendsError(f"{where}: shard files not found: {missing[:3]}")
    return stage


class ShardTokenizer:
    """What megatron-core's GPTDataset needs of a tokenizer. Token ids are already in the shards; the
    trainer keeps full sequences (no position or mask reset at EOS), so `eod` only has to be a valid
    id and `pad` one no shard holds (-1: GPTDataset masks labels equal to it)."""

    def __init__(self, vocab_size: int, eod: int):
        self.vocab_size, self.eod, self.pad = vocab_size, eod, -1
        self.unique_identifiers = {"class": "ShardTokenizer", "vocab_size": vocab_size}


def build_stage_dataset(stage: Stage, stage_index: int, *, num_samples: int, seq_length: int, seed: int,
                        vocab_size: int, cache_dir: str):
    """The stage's blended dataset with at least `num_samples` samples of seq_length + 1 tokens.

    Rank 0 builds the shuffle indices into `cache_dir` first, the other ranks then load them
    (megatron-core's builder synchronizes), so every rank, on every node, must see the directory."""
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig

    cfg = GPTDatasetConfig(
        random_seed=seed * 1000 + stage_index,  # each stage its own sample order
        sequence_length=seq_length,
        blend=(list(stage.prefixes), list(stage.weights)),
        split="100,0,0",
        path_to_cache=cache_dir,
        tokenizer=ShardTokenizer(vocab_size, eod=0),
        reset_position_ids=False,
        reset_attention_mask=False,
        eod_mask_loss=False,
        create_attention_mask=False,  # causal attention comes from the kernel
    )
    train, _, _ = BlendedMegatronDatasetBuilder(GPTDataset, [num_samples, 0, 0], lambda: True, cfg).build()
    return train


@dataclass
class DataPosition:
    stage: int = 0  # index into Blends.stages
    samples: int = 0  # samples consumed in that stage


class StageData:
    """Global batches, stage after stage, for one DP rank."""

    def __init__(self, blends: Blends, *, seq_length: int, global_batch: int, micro_batch: int,
                 dp_rank: int, dp_size: int, seed: int, cache_dir: str, vocab_size: int):
        if global_batch % (micro_batch * dp_size):
            raise ValueError(f"global batch {global_batch} is not a multiple of micro batch {micro_batch} "
                             f"x data-parallel size {dp_size}")
        self.blends, self.seq_length, self.seed, self.cache_dir = blends, seq_length, seed, cache_dir
        self.global_batch, self.micro_batch = global_batch, micro_batch
        self.dp_rank, self.dp_size = dp_rank, dp_size
        self.vocab_size = vocab_size
        self.accumulation = global_batch // (micro_batch * dp_size)
        self._datasets: dict[int, object] = {}

    def stage_steps(self) -> list[int]:
        return [s.steps(self.global_batch, self.seq_length) for s in self.blends.stages]

    def stage_samples(self, k: int) -> int:
        return self.stage_steps()[k] * self.global_batch

    def advance_stage_if_done(self, pos: DataPosition) -> DataPosition:
        """The position of the next global batch: the next stage once this one's budget is spent."""
        if pos.stage < len(self.blends.stages) and pos.samples >= self.stage_samples(pos.stage):
            return DataPosition(pos.stage + 1, 0)
        return pos

    def dataset(self, k: int):
        if k not in self._datasets:
            self._datasets.clear()  # one stage at a time: the previous one's indices can go
            self._datasets[k] = build_stage_dataset(
                self.blends.stages[k], k, num_samples=self.stage_samples(k), seq_length=self.seq_length,
                seed=self.seed, vocab_size=self.vocab_size, cache_dir=self.cache_dir)
        return self._datasets[k]

    def rank_sample_indices(self, pos: DataPosition) -> list[list[int]]:
        """This rank's sample indices of the global batch at `pos`, one list per micro step."""
        mb = self.micro_batch
        return [[pos.samples + (m * self.dp_size + self.dp_rank) * mb + j for j in range(mb)]
                for m in range(self.accumulation)]

    def micro_batches(self, pos: DataPosition) -> list[dict]:
        """This rank's micro batches at `pos`: dicts of tokens, labels, loss_mask, position_ids
        ([micro_batch, seq_length] each) and sample_ids."""
        import torch

        ds = self.dataset(pos.stage)
        out = []
        for ids in self.rank_sample_indices(pos):
            samples = [ds[i] for i in ids]
            batch = {key: torch.stack([s[key] for s in samples])
                     for key in ("tokens", "labels", "loss_mask", "position_ids")}
            batch["sample_ids"] = ids
            out.append(batch)
        return out


def sample_digests(batch: dict) -> list[tuple[int, str]]:
    """(sample index, digest of its tokens + last label) for each sample of a micro batch."""
    out = []
    for i, tokens, labels in zip(batch["sample_ids"], batch["tokens"], batch["labels"]):
        data = tokens.numpy().astype("int64").tobytes() + labels[-1:].numpy().astype("int64").tobytes()
        out.append((i, hashlib.sha1(data).hexdigest()[:16]))
    return out


def batch_digest(pairs: list[tuple[int, str]]) -> str:
    """One digest of a global batch from every rank's `sample_digests`, independent of the layout
    (DP size, accumulation steps) that read it."""
    return hashlib.sha1(",".join(f"{i}:{h}" for i, h in sorted(pairs)).encode()).hexdigest()[:16]
