# camaudit — see README.md. Everything installs into a local venv (.venv).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test lint bench clean

$(BIN)/camaudit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# Debian packages are installed (as root) by scripts/sysdeps.sh, per target.
demo: $(BIN)/camaudit
	@scripts/sysdeps.sh chromium
	$(BIN)/camaudit demo --out $(OUT)

test: $(BIN)/camaudit
	@scripts/sysdeps.sh chromium nmap tcpdump postgresql redis ocr cjkfonts
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(BIN)/camaudit
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/mypy

bench: $(BIN)/camaudit
	@scripts/sysdeps.sh nmap tshark
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out build .pytest_cache .hypothesis
