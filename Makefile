# The two commands a newcomer needs: `make demo` and `make test`.
# Each does all the set-up on a fresh machine (a .venv with everything in it).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install lint docs serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m dynamo.cli.demo

serve: $(STAMP)
	$(BIN)/dynamo serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

test: $(STAMP) lint docs
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) site .pytest_cache .hypothesis
