# Quick start:  make demo   (venv + install + demo data + train + evaluate on CPU)
#               make test   (venv + install + test suite)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.densenets-installed

.PHONY: install test demo demo-det demo-seg clean-demo

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# pytest exits 5 when it collected no tests; that is a failure here too.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --timeout=900 tests
