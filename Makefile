# The two commands a newcomer needs:  make demo   and   make test
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: demo test setup clean-out

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

# Installs everything (first time) and runs the whole recipe on the bundled sample crawl (WARC) and
# sample corpus (JSONL): clean -> dedup -> decontaminate (against the demo benchmark) -> score (reference KenLM models built here first) -> pack -> mix -> train (tiny, CPU).
# `ziya score` here buckets every document without dropping any: Ziya2 then kept high+medium
# (--keep high,medium), which on this small sample would empty sources the demo recipe names.
demo: setup models/kenlm/zh.json
	$(BIN)/ziya clean --input data/web/handbook_crawl.warc.gz data/sample --output $(OUT)/clean --overwrite
	$(BIN)/ziya dedup --input $(OUT)/clean --output $(OUT)/dedup --overwrite
	$(BIN)/ziya decontaminate --input $(OUT)/dedup --benchmark data/benchmarks/demo_eval.jsonl \
		--benchmark-fields question,passage,answer --output $(OUT)/decontaminate --overwrite
	$(BIN)/ziya score --input $(OUT)/decontaminate --output $(OUT)/score --models models/kenlm --overwrite
	$(BIN)/ziya pack --input $(OUT)/score --output $(OUT)/pack --overwrite
	$(BIN)/ziya shards verify $(OUT)/pack
	$(BIN)/ziya mix --recipe recipes/ziya2_demo.toml --pack $(OUT)/pack --output $(OUT)/blends.json
	rm -rf $(OUT)/train
	$(BIN)/ziya train --config configs/train_tiny_demo.toml --nproc 2 --set out=\"$(OUT)/train\" --set data.blends=\"$(OUT)/blends.json\"

# zh and en reference language models for `ziya score`, trained here from text that ships offline.
models/kenlm/zh.json: | setup
	bash scripts/build_reference_models.sh

test: setup
	$(BIN)/python -m pytest -q

clean-out:
	rm -rf $(OUT)
