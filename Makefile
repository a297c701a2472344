# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test test-transformers4 lint install clean

$(BIN)/onnxproof: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/onnxproof

demo: install
	$(BIN)/onnxproof run -o simple_net.onnx --json simple_net.report.json

test: install lint
	$(BIN)/python -m pytest

# The tests marked `transformers` again under transformers 4.x, which many users still run (the
# main venv has 5.x). A separate venv: the same install as .venv but for transformers.
TF4 := .venv-tf4
$(TF4)/bin/pytest: pyproject.toml constraints.txt
	$(PY) -m venv $(TF4)
	$(TF4)/bin/python -m pip install -q --upgrade pip
	$(TF4)/bin/python -m pip install -q -c constraints.txt torch==2.13.0
	$(TF4)/bin/python -m pip install -q -c constraints.txt -e '.[dev]' 'transformers>=4.40,<5'
	touch $@

test-transformers4: $(TF4)/bin/pytest
	$(TF4)/bin/python -c "import transformers as t; print('transformers', t.__version__)"
	$(TF4)/bin/python -m pytest -m transformers

lint: install
	$(BIN)/ruff check src tests benchmarks examples scripts
	$(BIN)/ruff format --check src tests benchmarks examples scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(TF4) simple_net.onnx simple_net.report.json
