# Omni Retail: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODULES := omni_inventory_bridge omni_member_hub omni_o2o_pickup \
	omni_miniprogram omni_insights omni_till
# Empty: the embedded SQLite database under var/db.
# postgresql://user:password@host:port/ : that PostgreSQL server.
DB ?=
DB_NAME ?= omni
SAO := web/node_modules/tryton-sao
DASHBOARD := addons/omni_insights
CHART_JS := $(DASHBOARD)/static/vendor/chart.umd.min.js

export TRYTOND_CONFIG := $(CURDIR)/trytond.conf
export TRYTOND_DATABASE__PATH := $(CURDIR)/var/db
export TRYTOND_WEB__ROOT := $(CURDIR)/var/www
ifneq ($(DB),)
export TRYTOND_DATABASE_URI := $(DB)
endif

.PHONY: run mall-demo demo-reset test deps lint clean

# The demo database made or brought up to date, served by trytond next to
# the fake WeChat the demo's mall calls (127.0.0.1:8001).
run: deps
	exec $(BIN)/python tools/serve_demo.py -c trytond.conf -d $(DB_NAME)

# The demo mall walked through by the mini-program's API client in node,
# against the server `make run` serves.
mall-demo:
	node miniprogram/tools/walkthrough.js --base http://127.0.0.1:8000 \
		--database $(DB_NAME)

# The demo as it first was, whatever its stories changed, then served.
demo-reset: deps
	exec $(BIN)/python tools/serve_demo.py -c trytond.conf -d $(DB_NAME) \
		--reset

deps: $(VENV)/.installed var/www/index.html var/www/custom.js \
	var/www/custom.css $(CHART_JS)

$(VENV)/.installed: requirements.txt $(wildcard addons/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt \
		$(foreach m,$(MODULES),-e addons/$(m))
	touch $@

$(SAO)/index.html: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --omit=dev
	touch $@

# The web root that trytond serves: sao's files next to its node_modules.
var/www/index.html: $(SAO)/index.html
	mkdir -p var/www
	for f in index.html dist images locale sounds; do \
		ln -sfn ../../$(SAO)/$$f var/www/$$f; done
	ln -sfn ../../web/node_modules var/www/node_modules

# sao loads custom.js and custom.css from its root: our fixes to it.
var/www/custom.%: web/custom.% var/www/index.html
	ln -sfn ../../web/custom.$* $@

# The owner's dashboard serves Chart.js from its static folder, copied
# from the package of its lock (not committed).
$(CHART_JS): $(DASHBOARD)/dashboard_web/package.json \
		$(DASHBOARD)/dashboard_web/package-lock.json
	cd $(DASHBOARD)/dashboard_web && npm ci --no-audit --no-fund
	mkdir -p $(@D)
	cp $(DASHBOARD)/dashboard_web/node_modules/chart.js/dist/chart.umd.min.js $@

# The mini-program's jest and test libraries, from its lock.
miniprogram/node_modules/.installed: miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund
	touch $@

test: deps miniprogram/node_modules/.installed
	tools/system_deps.sh
	tools/run_tests.sh

lint: deps
	$(BIN)/ruff check addons demo tests tools bench conftest.py

clean:
	rm -rf var
