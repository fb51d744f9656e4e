"""DataTrove 0.10.1 from a WARC: WarcReader -> Trafilatura [-> the clean filters of
datatrove_baseline.py] -> JsonlWriter, timed as datatrove_baseline.py times its job. Runs in
.venv-datatrove (bash benchmarks/setup_datatrove.sh); benchmarks/bench_extract.py calls it.

    .venv-datatrove/bin/python benchmarks/datatrove_extract_baseline.py --input crawl.warc.gz \
        --workers 2 --output /tmp/dt-extract [--filters] --json-out /tmp/dt-extract.json

WarcReader keeps every `response`/`conversion` record whose WARC-Identified-Payload-Type (or
libmagic's guess) is HTML, whatever its HTTP status; it decodes UTF-8, else what cchardet detects,
and ignores the HTTP and <meta> charsets. Trafilatura runs with DataTrove's defaults
(favour_precision, deduplicate, a 1 s timeout per page). The written documents keep their WARC
record ids, so bench_extract.py scores them against the sample's known main text.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datatrove_baseline as baseline  # noqa: E402  (sets HF_HUB_OFFLINE before DataTrove loads)
from datatrove.pipeline.extractors import Trafilatura  # noqa: E402
from datatrove.pipeline.readers import WarcReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402


def main() -> None:
    ap = baseline.run_arguments(__doc__.split("\n\n")[0], "WARC files")
    ap.add_argument("--filters", action="store_true", help="also run the clean filters of datatrove_baseline.py")
    args = ap.parse_args()

    files, out = [Path(f).resolve() for f in args.input], Path(args.output)
    tasks = args.tasks or len(files)

    def steps(paths_file, root):
        return [WarcReader(root, paths_file=str(paths_file)), Trafilatura(),
                *(baseline.filter_steps("cmn") if args.filters else []),
                JsonlWriter(str(out / "data"), compression=None)]

    wall, cpu_s, stats = baseline.run_steps(files, out, args.workers, tasks, steps)
    step_s, shares, counters = baseline.step_report(stats)
    reader = next(v for k, v in counters.items() if k.startswith("reader"))
    input_mb = sum(f.stat().st_size for f in files) / 1e6
    pages = reader.get("documents", 0)
    result = {
        "tool": "datatrove", "version": importlib.metadata.version("datatrove"),
        "trafilatura": importlib.metadata.version("trafilatura"), "filters": args.filters,
        "input_mb": round(input_mb, 3), "pages": pages, "kept_docs": len(baseline.kept_ids(out / "data")),
        "wall_s": round(wall, 2), "cpu_s": round(cpu_s, 2),
        "pages_per_cpu_s": round(pages / cpu_s, 1), "mb_per_s_per_core": round(input_mb / cpu_s, 4),
        "step_time_share": shares, "step_counters": counters,
        "config": {"workers": args.workers, "tasks": tasks, "files": len(files), "cores": os.cpu_count()},
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
