# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10: the first one found here builds the venv.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)
MODEL = $$(ls models/avera-*.tar.gz)

.PHONY: help install env train validate run test test-stories test-nlu test-python eval lock clean web browser

help:
	@echo "make run    set up, train if needed and start the help desk"
	@echo "make test   set up, validate, train and run every test"

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 runs on 3.10 only)."; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

install: $(VENV)/.installed

env: install
	@$(PY) -m bot.cli env

train: env
	@$(PY) -m bot.cli train

validate: install
	$(RASA) data validate --fail-on-warnings --config config.yml --domain domain.yml --data data

run: install web
	@$(PY) -m bot.cli run

test: validate train test-stories test-nlu test-python

test-stories: train
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out results/stories

test-nlu: train
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu --out results/nlu --no-plot
	$(PY) -m bot.cli check-nlu results/nlu/intent_report.json --min-f1 0.95

test-python: train web browser
	$(PY) -m pytest

# The chat widget's browser packages (package-lock.json), and the client file the page serves.
WEB_VENDOR := bot/web/static/vendor/socket.io.min.js
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the chat widget: apt-get install -y npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
$(WEB_VENDOR): node_modules/.package-lock.json
	mkdir -p $(@D)
	cp node_modules/socket.io-client/dist/socket.io.min.js $@
web: $(WEB_VENDOR)

# The browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

# The shared FAQ evaluation against a running `make run` (another terminal).
eval: install
	$(PY) ../shared/eval/run_eval.py ../shared/eval/faq_cases.yml

lock: install
	$(PY) -m pip freeze --all | grep -vE '^(-e|pip==)' > requirements.lock

clean:
	rm -rf results models/*.tar.gz
