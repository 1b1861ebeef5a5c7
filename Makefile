# healthgraph — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM ?= npm
STAMP := node_modules/.install-stamp
PORT ?= 4000


.PHONY: help install build docs codegen check-generated typecheck lint services stop-services test test-unit run demo bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $(STAMP)

install: $(STAMP) build ## Install dependencies (npm ci, only when the lock file changed) and compile

build: $(STAMP)
	@npx tsc -p tsconfig.build.json

codegen: $(STAMP) ## Regenerate resolver types from schema/*.graphql
	npx graphql-codegen --config codegen.yml

check-generated: $(STAMP) ## Fail when src/generated is stale against the SDL
	@npx graphql-codegen --config codegen.yml --check >/dev/null 2>&1 || { echo "src/generated/graphql.ts is stale: run 'make codegen' and commit the result"; exit 1; }
	@echo "generated code is up to date"

docs: build ## Regenerate docs/schema.md and the configuration reference from the code
	@scripts/gen-docs.sh

typecheck: $(STAMP) ## Type-check everything, tests included
	npx tsc -p tsconfig.json --noEmit

lint: $(STAMP) ## ESLint
	npx eslint .

services: install ## Install (if missing) and start every service the tests need; idempotent
	@scripts/install-system-deps.sh
	@scripts/services.sh start

stop-services: ## Stop the services started by `make services`
	@scripts/services.sh stop

test: install check-generated typecheck lint services ## Install, start the test services, run the whole suite
	@mkdir -p .services
	@npx jest --ci --json --outputFile=.services/jest-results.json; status=$$?; node scripts/test-summary.js .services/jest-results.json; exit $$status

test-unit: install ## Only the tests that need no services
	npx jest --ci --selectProjects unit 2>/dev/null || npx jest --ci test/model test/config test/server

run: install ## Start the demo FHIR server and the gateway on :$(PORT) with the playground
	@scripts/demo.sh $(PORT)

bench: install services ## Benchmarks on this machine; prints figures and how they were obtained
	@scripts/bench.sh

clean: stop-services
	rm -rf dist .services
