# Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ — the two commands a new machine needs:
#   make report    set up .venv on first use, then build the default year's report
#   make test      set up .venv on first use, then run the tests
# Both first check the system packages they need (scripts/system-deps.sh, shared with .ci/run):
# as root the missing ones are installed with apt-get, otherwise the exact command is printed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# JupyterLab lives in an environment of its own: its dependencies (rfc3987-syntax, through
# jupyter-events) add 1.7 s to every import of nbformat, i.e. to every report command.
LAB_VENV  := .venv-lab
LAB_STAMP := $(LAB_VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SYSDEPS := PYTHON=$(PYTHON) scripts/system-deps.sh
YEAR   ?= 2020
OUT    ?= outputs
PARAMS ?= params
JOBS   ?=
FORCE  ?=

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(SYSDEPS) python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

$(LAB_STAMP): pyproject.toml
	@$(SYSDEPS) python
	@test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LAB_VENV)/bin/python -m pip install --quiet -e '.[lab]'
	@rm -f $(LAB_VENV)/.installed-* && touch $@

setup: $(STAMP) ## Create .venv and install the project (done automatically on first use)

report: $(STAMP) ## Build the report of YEAR (default 2020) into OUT/YEAR unless it is up to date (FORCE=1: anyway)
	@$(SYSDEPS) report
	$(PY) -m evaluation --params-dir $(PARAMS) report --year $(YEAR) --out $(OUT) $(if $(FORCE),--force)

reports: $(STAMP) ## Build every params/*.yaml that changed in parallel (JOBS=n), the comparison, the index (FORCE=1: all)
	@$(SYSDEPS) report
	$(PY) -m evaluation --params-dir $(PARAMS) report --all --out $(OUT) $(if $(JOBS),--jobs $(JOBS)) $(if $(FORCE),--force)

test: $(STAMP) ## Run the test suite
	@$(SYSDEPS) test
	$(PY) -m pytest $(PYTEST_ARGS)

validate: $(STAMP) ## Check the inputs of YEAR without building anything
	$(PY) -m evaluation validate --year $(YEAR)

new-year: $(STAMP) ## Create params/YEAR.yaml and data/YEAR/ with the Excel input forms (FROM=previous year)
	$(PY) -m evaluation new-year $(YEAR) $(if $(FROM),--from $(FROM))

forms: $(STAMP) ## Write one Excel form per party of YEAR into data/YEAR/forms (MISSING=1 FROM=dir: only those still owed)
	$(PY) -m evaluation forms --year $(YEAR) $(if $(MISSING),--missing --from $(FROM))

collect: $(STAMP) ## Read the forms returned in FROM, print who returned what and every problem (WRITE=1 writes the year's tables)
	$(PY) -m evaluation collect --year $(YEAR) --from $(FROM) $(if $(WRITE),--write)

lab: $(LAB_STAMP) ## Open JupyterLab on notebooks/ (its own environment, .venv-lab, made on first use)
	$(LAB_VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

bench: $(STAMP) ## Measure report, batch and national-size engine (outputs/bench/bench.json, bench.md)
	@$(SYSDEPS) report
	$(PY) bench/bench.py --runs $(or $(RUNS),3)

clean: ## Remove generated outputs (keeps .venv)
	find $(OUT) -mindepth 1 ! -name README.md ! -name .gitkeep -exec rm -rf {} +

system-deps: ## Check (as root: install) every system package the tests need
	@$(SYSDEPS) test

.PHONY: help setup report reports test validate new-year forms collect lab clean bench system-deps
