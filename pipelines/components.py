"""Connected components of a graph given as an edge DataFrame, on Spark: large-star/small-star.

Kiveris et al. 2014, "Connected Components in MapReduce and Beyond": alternating the two
operations turns the graph into stars centred on each component's smallest node in O(log n)
rounds, each a few joins and aggregations over the edge list, never a collect. Used by dedup to
fold near-duplicate pairs into clusters.
"""
from __future__ import annotations

from dataclasses import dataclass

from corpus_tools.config import PositiveInt, load


@dataclass(frozen=True)
class ComponentsConfig:
    """Spark-side settings of connected components (the `[spark]` table of a dedup config)."""

    # Checkpoint the edge DataFrame every this many rounds. A round reads its input edges about a
    # dozen times over (unions, self-joins), so an uncut plan, and the task binaries Spark ships,
    # grow ~12x per round: cut every round unless rounds are trivial.
    checkpoint_every: PositiveInt = 1
    max_rounds: PositiveInt = 64  # large-star/small-star needs O(log n) rounds; more means a bug

    @classmethod
    def from_dict(cls, data: dict | None) -> "ComponentsConfig":
        return load(cls, data, "spark")


def connected_components(edges, checkpoint_every: int = 1, max_rounds: int = 64):
    """(components, rounds): components is (id, root) for every node of `edges` (u, v) other
    than a root, root being the smallest id of its component; rounds of large-star + small-star
    (checkpointed every `checkpoint_every` rounds, so the plan stops growing)."""
    from pyspark.sql import functions as F

    e = (edges.where(F.col("u") != F.col("v"))
         .select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v")).distinct())
    e = materialize(e, cut=True)
    rounds = 0
    while not is_star_forest(e):
        if rounds == max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        rounds += 1
        nxt = materialize(small_star(large_star(e)), cut=rounds % checkpoint_every == 0)
        e.unpersist()
        e = nxt
    return e.select(F.col("u").alias("id"), F.col("v").alias("root")), rounds


def large_star(e):
    """Every node links its larger neighbours to the smallest node of its closed neighbourhood."""
    from pyspark.sql import functions as F

    both = e.select(F.col("u").alias("a"), F.col("v").alias("b")).union(e.select(F.col("v").alias("a"), F.col("u").alias("b")))
    low = both.groupBy("a").agg(F.least(F.col("a"), F.min("b")).alias("m"))
    return both.join(low, "a").where(F.col("b") > F.col("a")).select(F.col("b").alias("u"), F.col("m").alias("v")).distinct()


def small_star(e):
    """Every node links itself and its smaller neighbours to the smallest of them."""
    from pyspark.sql import functions as F

    low = e.groupBy("u").agg(F.min("v").alias("m"))
    moved = e.join(low, "u").where(F.col("v") != F.col("m")).select(F.col("v").alias("u"), F.col("m").alias("v"))
    return moved.union(low.select("u", F.col("m").alias("v"))).distinct()


def is_star_forest(e) -> bool:
    """True when every edge (u, v) is a leaf u's only edge to a root v (a node that is never a
    leaf): the fixpoint of both operations, where each component is one star."""
    from pyspark.sql import functions as F

    roles = e.select(F.col("u").alias("node"), F.lit(1).alias("leaf"), F.lit(0).alias("root")).union(
        e.select(F.col("v").alias("node"), F.lit(0).alias("leaf"), F.lit(1).alias("root")))
    per_node = roles.groupBy("node").agg(F.sum("leaf").alias("leaf"), F.max("root").alias("root"))
    return per_node.where((F.col("leaf") > 1) | ((F.col("leaf") == 1) & (F.col("root") == 1))).limit(1).count() == 0


def materialize(df, cut: bool, count: bool = True):
    """Persist `df` (used twice: the convergence check and the next round); when `cut`,
    checkpoint it instead so the plan stops growing. A reliable checkpoint when the session
    has a checkpoint directory, else a local one. `count=False`: persist only, the caller's
    next action computes it."""
    from pyspark import StorageLevel

    if cut:
        if df.sparkSession.sparkContext.getCheckpointDir():
            return df.checkpoint(eager=True)
        return df.localCheckpoint(eager=True)
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    if count:
        df.count()
    return df


