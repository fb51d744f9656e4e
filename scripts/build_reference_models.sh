#!/usr/bin/env bash
# Build the zh and en reference language models that `ziya score` uses, from text that ships offline:
# People's Daily 1998 news (zh) and Linux kernel + Python documentation (en). 10% of the documents
# (by a hash of their origin) are held out for benchmarks/eval_perplexity_auc.py.
#
#   bash scripts/build_reference_models.sh            # -> models/kenlm/{zh,en}.{arpa,binary,sp.model,json}
#   MAX_CHARS=8000000 bash scripts/build_reference_models.sh   # bigger models
#
# `models/` is git-ignored. A binary model is also written when KenLM's build_binary is found
# (scripts/build_lmplz.sh builds it); kenlm.Model loads the ARPA file otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-$PWD/.venv/bin/python}"
ZIYA="${ZIYA:-$PWD/.venv/bin/ziya}"
REF="${REF_DIR:-build/reference}"
MODELS="${MODELS_DIR:-models/kenlm}"
MAX_CHARS="${MAX_CHARS:-5000000}"
LANGS="${LANGS:-zh en}"

"$PY" scripts/reference_text.py --output "$REF" --max-chars "$MAX_CHARS"
for lang in $LANGS; do
  "$ZIYA" kenlm train --lang "$lang" --input "$REF/$lang.train.jsonl" --output "$MODELS/$lang" --order 5 --vocab-size 8000
done
