# The two commands a newcomer needs: `make demo` and `make test`. Each bootstraps .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench reliability clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/notices demo

# Three test processes on two cores: a third runs while others wait on timeouts and servers.
# Byte code compiled first: tests start dozens of `notices` processes, and where
# PYTHONDONTWRITEBYTECODE is set each would compile the package again.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m compileall -q notifier
	$(BIN)/python -m pytest -q -n 3 --dist loadfile

reliability: $(STAMP)
	$(BIN)/python tests/reliability/report.py

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf build var .pytest_cache .mypy_cache
