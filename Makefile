# The two commands of the README:
#   make run    set everything up, seed demo data on the first run, serve on http://127.0.0.1:8000
#   make test   install what the tests need and run the whole suite
# With REDIS_URL set, `make run` also starts a Celery worker and beat beside the web server.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_CUSTOMERS ?= 2000
PYTEST_ARGS ?=
README_SCREENSHOTS := dashboard customer_360 kanban chat ticket
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/12
BENCH_ARGS ?=

.PHONY: run install install-dev browser migrate seed serve serve-web serve-worker serve-beat test bench bench-tools screenshots lint format messages clean

run: install migrate seed serve

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

install-dev: install $(VENV)/.installed-dev

# The end-to-end tests drive Debian's Chromium, with a CJK font for the Chinese pages. Installed
# when missing and this is root on Debian; elsewhere those tests skip and say what to install.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q chromium fonts-wqy-microhei >/dev/null \
	      || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null; }; \
	  else \
	    echo "Chromium missing: the end-to-end tests will skip (apt-get install chromium fonts-wqy-microhei)"; \
	  fi; \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: install
	$(BIN)/python manage.py seed_demo --if-empty --customers $(DEMO_CUSTOMERS)

# Development server: one Uvicorn process for HTTP and WebSocket (the in-memory channel layer
# needs a single process); Celery worker and beat join it when REDIS_URL is set.
serve: install
	@trap 'kill 0' INT TERM EXIT; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(BIN)/celery -A crm worker --loglevel=info & \
	  $(BIN)/celery -A crm beat --loglevel=info --scheduler crm.beat:ClusterScheduler & \
	fi; \
	echo "crm is serving on http://$(HOST):$(PORT)"; \
	$(BIN)/uvicorn crm.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# Production entry points; docker-compose.yml runs exactly these commands.
serve-web:
	$(BIN)/gunicorn crm.asgi:application -c crm/gunicorn.conf.py

serve-worker:
	$(BIN)/celery -A crm worker --loglevel=info

serve-beat:
	$(BIN)/celery -A crm beat --loglevel=info --scheduler crm.beat:ClusterScheduler --pidfile=/tmp/crm-celerybeat.pid

test: install-dev browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The performance suite (benchmarks/bench.py): seeds BENCH_DATABASE_URL (dropped first) with a
# million customers and their histories, or copies the seed an earlier run saved, runs every
# scenario, writes benchmarks/results/.
bench: install-dev bench-tools
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) \
	  $(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# wrk, the HTTP load generator, and GNU time for peak memory; from apt-get when root on Debian.
bench-tools:
	@if ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q wrk time >/dev/null \
	      || { apt-get update -q >/dev/null && apt-get install -y -q wrk time >/dev/null; }; \
	  else \
	    echo "make bench needs wrk and GNU time (apt-get install wrk time)"; exit 1; \
	  fi; \
	fi

# Runs the end-to-end tests and copies the README's screenshots into docs/screenshots.
screenshots: install-dev browser
	$(BIN)/pytest tests/e2e
	mkdir -p docs/screenshots
	cp $(addprefix var/e2e/screenshots/,$(addsuffix .png,$(README_SCREENSHOTS))) docs/screenshots/

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore "node_modules/*" --ignore ".venv/*" \
	  --ignore "tests/*" --ignore "benchmarks/*"
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore ".venv/*" --ignore "node_modules/*"

clean:
	rm -rf $(VENV) node_modules staticfiles
