#!/usr/bin/env bash
# Build KenLM's estimator `lmplz` (and `build_binary`) from the PyPI source distribution of
# `kenlm` into .tools/kenlm/bin (git-ignored). Only needed to check the project's own
# Kneser-Ney estimator against the reference (tests use a committed fixture instead).
#
#   bash scripts/build_lmplz.sh            # ~1.5 min after the Debian packages are in
#
# Needs root (or the packages already installed) for Debian's Boost headers and cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${LMPLZ_PREFIX:-$PWD/.tools/kenlm}"
PY="${PYTHON:-$PWD/.venv/bin/python}"
if [ -x "$PREFIX/bin/lmplz" ]; then echo "$PREFIX/bin/lmplz exists"; exit 0; fi

need=()
for pkg in libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
           zlib1g-dev cmake g++ make; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# --no-build-isolation: pip would otherwise build the sdist's build requirements (cmake!) from source
"$PY" -m pip download --no-deps --no-binary=:all: --no-build-isolation -d "$work" "kenlm==0.3.0" -q
tar -xzf "$work"/kenlm-*.tar.gz -C "$work"
src="$(find "$work" -maxdepth 1 -type d -name 'kenlm-*' | head -1)"
log="$work/build.log"
if ! { cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_POLICY_VERSION_MINIMUM=3.5 &&
       cmake --build "$work/build" --target lmplz build_binary -j "$(nproc)"; } >"$log" 2>&1; then
  tail -30 "$log"; echo "building lmplz failed" >&2; exit 1
fi
mkdir -p "$PREFIX/bin"
cp "$work/build/bin/lmplz" "$work/build/bin/build_binary" "$PREFIX/bin/"
echo "built $PREFIX/bin/lmplz and $PREFIX/bin/build_binary"
