# The two commands a newcomer needs:  make demo   and   make test
VENV ?= .venv
BIN := $(VENV)/bin
# the output root recipes/demo.toml names
OUT := out

.PHONY: demo test setup clean-out

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

# Installs everything (first time) and runs the whole recipe, recipes/demo.toml, on the bundled sample
# crawl (WARC) and sample corpus (JSONL): clean (with PII masking) -> dedup -> decontaminate (against the
# demo benchmark) -> score (reference KenLM models built here first) -> pack -> mix -> train (tiny, CPU),
# as one resumable pipeline: a second `make demo` recomputes nothing. `ziya score` here buckets every
# document without dropping any: Ziya2 then kept high+medium, which on this small sample would empty
# sources the demo recipe names.
demo: setup models/kenlm/zh.json
	$(BIN)/ziya run recipes/demo.toml
	$(BIN)/ziya shards verify $(OUT)/pack

# zh and en reference language models for `ziya score`, trained here from text that ships offline.
models/kenlm/zh.json: | setup
	bash scripts/build_reference_models.sh

test: setup
	$(BIN)/python -m pytest -q

clean-out:
	rm -rf $(OUT)
