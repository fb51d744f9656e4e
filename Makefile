# The two commands a newcomer needs:  make demo   and   make test
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: demo test setup clean-out

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

# Installs everything (first time) and runs the pipeline on the bundled sample corpus.
demo: setup
	$(BIN)/ziya clean --input data/sample --output $(OUT)/clean --overwrite
	$(BIN)/ziya dedup --input $(OUT)/clean --output $(OUT)/dedup --overwrite
	@echo "clean: $(OUT)/clean/{kept,rejected,quarantine}/ + stats.json   dedup: $(OUT)/dedup/{kept,duplicates}/ + stats.json"

test: setup
	$(BIN)/python -m pytest -q

clean-out:
	rm -rf $(OUT)
