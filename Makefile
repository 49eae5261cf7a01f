# AMD reproduction: every entry point in one place.  `make` (or `make help`) lists targets.
# Needs only Python 3.10+ and make: `make setup` builds a local virtual environment in
# $(VENV) and installs this repo (editable) with the pins from constraints.txt.

VENV    ?= .venv
PYTHON  ?= python3
PROFILE ?= cpu
DATA_ROOT ?=
CHECKPOINT ?=
ONLY ?=
LIFT_TIME_GUARD ?=
ABLATIONS ?=
PYTEST_ARGS ?=

VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup test reproduce bench clean distclean

help: ## list the targets
	@echo "AMD reproduction. Targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Variables: VENV=$(VENV) PYTHON=$(PYTHON) PROFILE=$(PROFILE) (smoke|cpu|paper) PYTEST_ARGS=..."

setup: $(STAMP) ## create or update the venv (VENV) and install amdlib[dev,notebooks] with the pinned torch

# Re-run only when the dependency declarations change; a second `make setup` is a no-op.
# An existing venv (e.g. one made by hand) is reused and brought up to date.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(VPY) || { echo "creating virtual environment in $(VENV)"; $(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install --upgrade pip
	$(VPY) -m pip install -c constraints.txt -e '.[dev,notebooks]'
	@touch $@

test: $(STAMP) ## set up, then run every test (pytest; "no tests collected" is a failure)
	@rc=0; $(VPY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; treating as failure" >&2; fi; \
	exit $$rc

reproduce: $(STAMP) ## set up, then regenerate results/PROFILE/ and its page (PROFILE=smoke|cpu|paper; DATA_ROOT=, CHECKPOINT=, ONLY=, LIFT_TIME_GUARD=1; REAL_VIDEOS= and DAVIS_ROOT= add the real-video stage; ABLATIONS=run trains the ablation seed runs the table lacks)
	$(VPY) scripts/reproduce.py --profile $(PROFILE) $(if $(DATA_ROOT),--data-root "$(DATA_ROOT)") $(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)") $(if $(ONLY),--only "$(ONLY)") $(if $(LIFT_TIME_GUARD),--lift-time-guard) $(if $(REAL_VIDEOS),--real-videos "$(REAL_VIDEOS)") $(if $(DAVIS_ROOT),--davis-root "$(DAVIS_ROOT)") $(if $(ABLATIONS),--ablations "$(ABLATIONS)")

bench: $(STAMP) ## run the core benchmark into results/benchmarks/core.md
	$(VPY) benchmarks/bench_core.py --out results/benchmarks/core.md

clean: ## remove caches and build debris (keeps results/, data/generated/ and the venv)
	find . -path ./$(VENV) -prune -o -type d \( -name __pycache__ -o -name .ipynb_checkpoints \) -print -exec rm -rf {} +
	rm -rf .pytest_cache build dist *.egg-info

distclean: clean ## clean, and also remove the venv
	rm -rf $(VENV)
