# The two commands a newcomer needs: `make demo` and `make test`.
# Each does all the set-up on a fresh machine (a .venv with everything in it).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install lint docs serve clean

SYSTEM  := $(VENV)/.system-stamp
MERMAID := build/mermaid/mermaid-11.17.2.min.js

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages the tests need: Chromium loads every page of the built site
# (tests/docs), npm fetches the Mermaid script the site serves itself, Java runs
# TLC on the replication protocol's TLA+ specification (tests/tla).
$(SYSTEM): | $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null)
	touch $(SYSTEM)

$(MERMAID): | $(STAMP) $(SYSTEM)
	$(BIN)/python docs/hooks/mermaid.py install

install: $(STAMP) $(SYSTEM) $(MERMAID)

demo: $(STAMP)
	$(BIN)/python -m dynamo.cli.demo

serve: $(STAMP)
	$(BIN)/dynamo serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

docs: $(STAMP) $(MERMAID)
	$(BIN)/mkdocs build --strict --quiet

test: install lint docs
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) site build .pytest_cache .hypothesis
