# camaudit — see README.md. Everything installs into a local venv (.venv).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test lint typecheck bench sysdeps clean

$(BIN)/camaudit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# Debian packages some features use: Chromium (PDF report, browser test), nmap
# (benchmarks, ingest tests), tcpdump (pcap ingest tests), tshark (pcap ingest
# benchmark). Installed when root.
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium chromium-driver"; \
	  command -v nmap >/dev/null || missing="$$missing nmap"; \
	  command -v tcpdump >/dev/null || missing="$$missing tcpdump"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v tshark >/dev/null || missing="$$missing tshark"; \
	  if [ -n "$$missing" ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	else echo "note: not root; install chromium, nmap and tcpdump for PDF, benchmarks, pcap"; fi

demo: $(BIN)/camaudit sysdeps
	$(BIN)/camaudit demo --out $(OUT)

test: $(BIN)/camaudit sysdeps
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/pytest

lint: $(BIN)/camaudit
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/mypy

bench: $(BIN)/camaudit sysdeps
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out build .pytest_cache .hypothesis
