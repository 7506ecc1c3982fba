# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10: the first one found here builds the venv.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
# The backend runs in its own venv: current aiohttp and SQLAlchemy 2.0, no Rasa (Python 3.11 or 3.10).
BACKEND_PYTHON := $(shell for p in python3.11 python3.10 /usr/local/bin/python3.11 /usr/bin/python3.11 $(PYTHON310); do \
	if $$p -c 'import sys; assert sys.version_info[:2] in ((3, 10), (3, 11))' 2>/dev/null; then echo $$p; break; fi; done)
BACKEND_VENV := .venv-backend
BACKEND_PY := $(BACKEND_VENV)/bin/python
RASA := $(VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)
MODEL = $$(ls models/avera-*.tar.gz)

.PHONY: help install env train validate run test test-stories test-nlu test-python test-conversations eval lock lock-backend clean check web browser

help:
	@echo "make run    set up, train if needed and start the help desk"
	@echo "make test   set up, validate, train and run every test"
	@echo "make check  is my change to the bot safe? (trainers; one line at the end)"
	@echo "make run-scale / make test-scale   the scale profile (PostgreSQL, Redis, nginx) and its long checks"
	@echo "make bench-scale                   its speed against the embedded default (a quiet machine)"

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 runs on 3.10 only)."; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

$(BACKEND_VENV)/.installed: requirements-backend.lock
	@test -n "$(BACKEND_PYTHON)" || { echo "Python 3.11 or 3.10 is required for the backend."; exit 1; }
	$(BACKEND_PYTHON) -m venv $(BACKEND_VENV)
	$(BACKEND_PY) -m pip install --quiet --disable-pip-version-check -r requirements-backend.lock
	touch $@

install: $(VENV)/.installed $(BACKEND_VENV)/.installed

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

# The backend's tests run in the backend's venv, the rest (actions, Rasa, end to end) in Rasa's.
test-python: train web browser nginx
	$(PY) -m pytest --ignore=tests/backend
	$(BACKEND_PY) -m pytest -rs tests/backend

# For trainers: validation, training, stories, NLU report (intents that got worse named), conversation sets;
# ends with one line.
check: install
	@$(PY) -m bot.cli check

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

# Only the held-out conversation sets (part of test-python): the per-topic pass rates and the goal.
test-conversations: train
	$(PY) -m pytest tests/e2e/test_conversation_sets.py

# The shared FAQ evaluation against a running `make run` (another terminal).
eval: install
	$(PY) ../shared/eval/run_eval.py ../shared/eval/faq_cases.yml

lock: install
	$(PY) -m pip freeze --all | grep -vE '^(-e|pip==)' > requirements.lock

lock-backend: install
	$(BACKEND_PY) -m pip install --quiet --disable-pip-version-check -r requirements-backend.txt
	$(BACKEND_PY) -m pip freeze --all | grep -vE '^(-e|pip==)' > requirements-backend.lock

clean:
	rm -rf results models/*.tar.gz

# The scale profile on this machine: PostgreSQL, Redis, 2 Rasa replicas and 2
# action servers behind nginx (bot/scale.py, docs/OPERATIONS.md).
.PHONY: run-scale nginx
nginx:
	@test -x /usr/sbin/nginx || { test "$$(id -u)" = 0 && apt-get install -y nginx-light || \
		{ echo "nginx is needed: sudo apt-get install nginx-light"; exit 1; }; }

run-scale: env train nginx
	@$(PY) -m bot.scale run

# The scale profile's long checks (minutes each; figures in README.md, Scale
# profile). Each exits non-zero when its goal is missed; their goals do not
# depend on how fast the machine is, and CI (.ci/run) runs them after make test.
# bench.faults restarts the machine's PostgreSQL and Redis once each.
.PHONY: test-scale bench-scale
test-scale: env train nginx
	$(PY) -m bench.hostile
	$(PY) -m bench.faults
	$(PY) -m bench.load --replicas 1,2

# Speed of the scale profile against the embedded default (exits non-zero when
# a goal is missed): a comparison of speeds, for a machine nobody else is using.
bench-scale: env train nginx
	$(PY) -m bench.turns --profiles embedded,scale --levels 10 --seconds 30 --conversation-length 200
