"""Staged data mixtures: a recipe of training stages, each a weighted blend of sources, resolved
against the shards `ziya pack` wrote into the blend lists Megatron reads.

    ziya mix --recipe recipes/ziya2_demo.toml --pack out/pack --output out/blends.json

A recipe (TOML):

    [[stages]]
    name = "general"           # Ziya2 trained in three stages: general data, + instructions, + math
    tokens = 2_000_000         # the stage's token budget
    lr_rewarm = false          # re-warm the learning rate when this stage starts (default false)
    sources = { people_daily_1998 = 0.4, linux_docs = 0.3, web = 0.3 }

Per stage, source weights are normalized to sum to 1; a source's weight is spread over its
shards in proportion to their tokens, so every token of a source is equally likely to be drawn.
Each source's plan is reported against what the shards hold: epochs = planned / available
tokens (> 1: upsampled, repeated; < 1: downsampled, part of it unseen in this stage).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from corpus_tools import storage
from corpus_tools.config import ConfigError, PositiveFloat, PositiveInt, load, read_file
from corpus_tools.shards import load_manifest


class MixError(ValueError):
    """A recipe that cannot be resolved against the packs: unknown source, mixed tokenizers..."""


@dataclass
class Stage:
    name: str
    tokens: PositiveInt
    sources: dict[str, PositiveFloat]  # source = weight
    lr_rewarm: bool = False

    def __post_init__(self):
        if not self.sources:
            raise ValueError(f"stage {self.name!r}: sources must be a non-empty table of source = weight")


@dataclass
class Recipe:
    stages: list[Stage] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)  # pack directories, when --pack does not name them

    @classmethod
    def from_file(cls, path: str) -> "Recipe":
        data = read_file(path)
        stages = data.get("stages")
        if not isinstance(stages, list) or not stages:
            raise ConfigError(f"{path}: a recipe needs at least one [[stages]] table")
        recipe = load(cls, {**data, "stages": []}, path)
        recipe.stages = [load(Stage, s, f"{path}: stages[{i}]") for i, s in enumerate(stages)]
        names = [s.name for s in recipe.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}: stage names must be unique, got {names}")
        return recipe


@dataclass
class SourceShards:
    """The shards of one source across the packs: absolute prefixes and tokens of each."""

    prefixes: list = field(default_factory=list)
    tokens: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.tokens)


def collect_sources(pack_dirs: list[str]) -> tuple[dict, dict[str, SourceShards]]:
    """(tokenizer of the packs, {source: its shards}); refuses packs made with different tokenizers."""
    if not pack_dirs:
        raise MixError("no pack directory: pass --pack DIR (a `ziya pack` output) or list packs in the recipe")
    tokenizer, sources = None, {}
    for pack in pack_dirs:
        manifest = load_manifest(pack)
        tok = manifest["tokenizer"]
        if tokenizer is None:
            tokenizer = {**tok, "pack": pack}
        elif (tok["sha256"], tok["vocab_size"]) != (tokenizer["sha256"], tokenizer["vocab_size"]):
            raise MixError(f"packs use different tokenizers: {tokenizer['pack']} has {tokenizer['path']} "
                           f"(sha256 {tokenizer['sha256'][:12]}...), {pack} has {tok['path']} (sha256 {tok['sha256'][:12]}...); "
                           "one training run reads one vocabulary: repack with the same --tokenizer")
        for shard in manifest["shards"]:
            entry = sources.setdefault(shard["source"], SourceShards())
            entry.prefixes.append(storage.join(storage.resolve(pack), shard["prefix"]))
            entry.tokens.append(shard["tokens"])
    return tokenizer, sources


def resolve_stage(stage: Stage, sources: dict[str, SourceShards]) -> dict:
    """One stage of the blends file: Megatron's (prefixes, weights) and the per-source plan."""
    unknown = sorted(set(stage.sources) - set(sources))
    if unknown:
        raise MixError(f"stage {stage.name!r} names source(s) {unknown} that no pack holds; "
                       f"available: {sorted(sources)}")
    empty = sorted(s for s in stage.sources if sources[s].total == 0)
    if empty:
        raise MixError(f"stage {stage.name!r}: source(s) {empty} have no tokens in the packs")
    total_weight = sum(stage.sources.values())
    prefixes, weights, plan = [], [], []
    for name in sorted(stage.sources):
        share = stage.sources[name] / total_weight
        shards = sources[name]
        prefixes += shards.prefixes
        weights += [share * t / shards.total for t in shards.tokens]
        planned = round(stage.tokens * share)
        plan.append({"name": name, "weight": share, "tokens_available": shards.total,
                     "tokens_planned": planned, "epochs": planned / shards.total})
    return {"name": stage.name, "tokens": stage.tokens, "lr_rewarm": stage.lr_rewarm,
            "blend": {"prefixes": prefixes, "weights": weights}, "sources": plan}


def build_blends(recipe_path: str, pack_dirs: list[str] | None = None) -> dict:
    """The blends file for a recipe: --pack directories if given, else the recipe's `packs`."""
    recipe = Recipe.from_file(recipe_path)
    tokenizer, sources = collect_sources(pack_dirs or recipe.packs)
    return {"recipe": os.path.abspath(recipe_path), "tokenizer_sha256": tokenizer["sha256"],
            "vocab_size": tokenizer["vocab_size"],
            "stages": [resolve_stage(stage, sources) for stage in recipe.stages]}


def format_table(blends: dict) -> str:
    """The per-source plan of every stage, as a text table."""
    rows = [("stage", "source", "weight", "available", "planned", "epochs", "")]
    for stage in blends["stages"]:
        for s in stage["sources"]:
            shown = round(s["epochs"], 2)
            note = "upsampled" if shown > 1 else "downsampled" if shown < 1 else ""
            rows.append((stage["name"], s["name"], f"{s['weight']:.3f}", f"{s['tokens_available']:,}",
                         f"{s['tokens_planned']:,}", f"{s['epochs']:.2f}", note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    align = ["<", "<", ">", ">", ">", ">", "<"]
    return "\n".join("  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip() for r in rows)
