"""pyspark's Python worker daemon, started with the installed pyspark ahead of Spark's zip.

Spark puts SPARK_HOME/python/lib/pyspark.zip (and py4j's zip) first on its Python workers' path.
Python cannot cache bytecode inside a zip, so every worker compiled pyspark's modules from source
when it started: ~0.7 CPU-s per worker per job, against ~0.1 s from a directory with cached
bytecode. When Spark runs from the pip-installed pyspark (local mode, `pipelines.spark`), the zip
sits inside that very package, so the same modules are on disk, compiled; this daemon moves the
zips behind them and then runs pyspark's own daemon unchanged. A zip from any other Spark
installation stays first. Set as `spark.python.daemon.module` for local sessions only.
"""
from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder


def prefer_installed_pyspark(path: list[str]) -> list[str]:
    """`path` with pyspark's and py4j's zips moved last, when they lie inside the pyspark package
    found outside them (the pip install they came with)."""
    zips = [p for p in path if p.endswith(".zip") and os.path.basename(p).startswith(("pyspark", "py4j"))]
    spec = PathFinder.find_spec("pyspark", [p for p in path if p not in zips])
    if not zips or spec is None or not spec.submodule_search_locations:
        return path
    package = os.path.realpath(list(spec.submodule_search_locations)[0]) + os.sep
    if not all(os.path.realpath(z).startswith(package) for z in zips):
        return path
    return [p for p in path if p not in zips] + zips


if __name__ == "__main__":
    sys.path[:] = prefer_installed_pyspark(sys.path)
    from pyspark.daemon import manager

    manager()
