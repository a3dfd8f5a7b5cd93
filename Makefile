# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test lint typecheck format bench triage-check triage-train package deploy demo clean browser

# The browser tests (tests/e2e/test_console.py) drive Debian's chromium by its path; a CJK
# font so Chinese renders in it. Installed through the package manager when missing - never
# a browser build downloaded by Playwright.
CHROMIUM       := /usr/bin/chromium
BROWSER_DEBS   := chromium fonts-wqy-zenhei
SUDO           := $(if $(filter 0,$(shell id -u)),,sudo)

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP) ## start the whole system locally on moto (Ctrl-C stops it)
	$(PY) -m local serve $(ARGS)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "needs $(CHROMIUM): install Debian's chromium package (apt-get install $(BROWSER_DEBS))"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(BROWSER_DEBS)

browser: $(CHROMIUM) ## Debian's chromium (+ a CJK font) for the console's browser tests

test: $(STAMP) $(CHROMIUM) ## lint + type check + the whole test suite (what CI runs)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP) ## mypy (pydantic plugin) over app.py, chalicelib/, infra/, local/, bench/
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .

bench: $(STAMP) ## benchmarks; figures printed and written to bench/results/
	$(PY) -m bench

triage-train: $(STAMP) ## rebuild the traditional-character table and retrain the learned second opinion (chalicelib/triage/*.json); ARGS="--corrections c.jsonl"
	$(PY) -m local.triage_tables
	$(PY) -m local.triage_train $(ARGS)

triage-check: $(STAMP) ## replay labelled examples + corrections before/after a rule (ARGS="--corrections c.jsonl --proposal p.toml")
	$(PY) -m bench.triage_check $(ARGS)

package: $(STAMP) ## build the deployable template + bundle into build/ (offline)
	$(PY) -m infra package --stage $(or $(STAGE),dev)

deploy: package ## deploy to the AWS account of your credentials (STAGE=dev|prod)
	$(PY) -m infra deploy --stage $(or $(STAGE),dev) $(ARGS)

demo: $(STAMP) ## the five-minute tour: local system, sample replayed, agents at work, report.html
	$(PY) -m local demo $(ARGS)

clean:
	rm -rf build .pytest_cache .mypy_cache bench/results test-artifacts
