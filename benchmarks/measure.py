"""CPU time: of one process (`best_cpu_seconds`), and of a whole process tree, for per-core
figures of multi-process jobs (`TreeCpu`).

Spark (a JVM plus forked Python workers) and DataTrove (a forkserver's pool) both run their
work in descendants that /usr/bin/time and RUSAGE_CHILDREN do not see until they are reaped.
"""
from __future__ import annotations

import resource
import threading
import time

import psutil


class Sampler:
    """Calls `sample()` on a thread every `interval` s while the `with` block runs, and once more
    at its end: the one sampling loop of the benchmarks' CPU and memory meters. `own_cpu`: what
    the sampling thread itself spent (walking the process table ten times a second costs ~1 CPU-s
    a minute in this process: the benchmark's, not the job's)."""

    own_cpu = 0.0

    def __init__(self, interval: float = 0.1):
        self.interval, self._stop = interval, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self):
        start = time.thread_time()
        while not self._stop.wait(self.interval):
            self.sample()
        self.own_cpu = time.thread_time() - start


def _rusage(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _descendants_cpu(kinds: dict[int, str] | None = None) -> dict[int, float]:
    """CPU seconds of every live descendant; `kinds` learns what each new pid is (jvm/python/other)."""
    seen = {}
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            seen[p.pid] = t.user + t.system
            if kinds is not None and p.pid not in kinds:
                name = p.name()
                kinds[p.pid] = "jvm" if "java" in name else "python" if "python" in name else name
        except psutil.Error:
            pass
    return seen


def _children_cpu_with_reaped() -> float:
    """Live children's own CPU plus what each has reaped from its own children."""
    total = 0.0
    for p in psutil.Process().children():
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


class TreeCpu(Sampler):
    """CPU seconds (user + system) of this process and every descendant between enter and `total()`.

    Two lower bounds, the larger wins: (a) a thread samples each descendant's CPU every
    `interval` s and keeps a pid's last value after it exits (misses at most one interval per
    process); (b) the kernel's totals: reaped children (RUSAGE_CHILDREN) plus, for each live
    child, its own CPU and that of the children it reaped. Descendants already running at enter
    (a warm Spark JVM) count only what they spend after it.
    """

    def __enter__(self):
        self.start_self = _rusage(resource.RUSAGE_SELF)
        self.start_kernel = _rusage(resource.RUSAGE_CHILDREN) + _children_cpu_with_reaped()
        self.kinds: dict[int, str] = {}
        self.baseline = _descendants_cpu(self.kinds)
        self.seen = dict(self.baseline)
        return super().__enter__()

    def sample(self) -> None:
        self.seen.update(_descendants_cpu(self.kinds))

    def total(self) -> float:
        sampled = sum(cpu - self.baseline.get(pid, 0.0) for pid, cpu in self.seen.items())
        kernel = _rusage(resource.RUSAGE_CHILDREN) + _children_cpu_with_reaped() - self.start_kernel
        return _rusage(resource.RUSAGE_SELF) - self.start_self + max(kernel, sampled)

    def by_kind(self) -> dict[str, float]:
        """Sampled CPU seconds per kind of process: this one ("self"), the JVM, Python workers."""
        out = {"self": _rusage(resource.RUSAGE_SELF) - self.start_self}
        for pid, cpu in self.seen.items():
            kind = self.kinds.get(pid, "other")
            out[kind] = out.get(kind, 0.0) + cpu - self.baseline.get(pid, 0.0)
        return out


def best_cpu_seconds(fn, repeat: int = 3) -> float:
    """Least CPU seconds of this process (all threads) over `repeat` calls: the least disturbed run."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def table(title: str, rows: list[dict], keys: list[str]) -> None:
    """Rows as a right-aligned table, a column per key, each as wide as its widest value."""
    print(f"\n{title}")
    width = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    print("  " + " | ".join(f"{k:>{width[k]}}" for k in keys))
    for r in rows:
        print("  " + " | ".join(f"{str(r.get(k, '')):>{width[k]}}" for k in keys))
