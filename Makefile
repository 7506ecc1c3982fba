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

.PHONY: help install env train validate run test test-stories test-nlu test-python test-conversations eval lock clean

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

run: install
	@$(PY) -m bot.cli run

test: validate train test-stories test-nlu test-python

test-stories: train
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out results/stories

test-nlu: train
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu --out results/nlu --no-plot
	$(PY) -m bot.cli check-nlu results/nlu/intent_report.json --min-f1 0.95

test-python: train
	$(PY) -m pytest

# Only the held-out conversation sets (part of test-python): the per-topic pass rates and the goal.
test-conversations: train
	$(PY) -m pytest tests/e2e/test_conversation_sets.py

# The shared FAQ evaluation against a running `make run` (another terminal).
eval: install
	$(PY) ../shared/eval/run_eval.py ../shared/eval/faq_cases.yml

lock: install
	$(PY) -m pip freeze --all | grep -vE '^(-e|pip==)' > requirements.lock

clean:
	rm -rf results models/*.tar.gz
