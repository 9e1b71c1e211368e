# The README's two commands: `make run` (set up, make sample images, index them, write the
# statistics: reports, plots and report.html in $(SAMPLE_REPORT)/) and
# `make test` (set up, run the test suite). Both work on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLES ?= sample_images
SAMPLE_DB ?= sample_images.db
SAMPLE_REPORT ?= sample_report

.PHONY: run test setup setup-dev samples bench clean

setup:
	@PYTHON=$(PYTHON) sh scripts/setup.sh $(VENV) requirements.txt

setup-dev:
	@PYTHON=$(PYTHON) sh scripts/setup.sh $(VENV) requirements-dev.txt

samples: setup
	$(BIN)/python -m exifdata_analytics.cli.make_samples --out $(SAMPLES)

run: samples
	$(BIN)/python DB_filler.py $(SAMPLES) -r -y --db $(SAMPLE_DB)
	$(BIN)/python parameter_statistic.py -y --db $(SAMPLE_DB) --out $(SAMPLE_REPORT) --html

test: setup-dev
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(SAMPLES) $(SAMPLE_REPORT) $(SAMPLE_DB) $(SAMPLE_DB)-wal $(SAMPLE_DB)-shm .pytest_cache
