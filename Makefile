# Altostack — `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NPM_STAMP := node_modules/.installed-stamp
TSX := node_modules/.bin/tsx

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NPM_STAMP) ## Install Node dependencies (npm ci).

.PHONY: tools
tools: ## Build (or reuse from ~/.cache/altostack) kube-apiserver, kube-controller-manager, etcd, kubectl, helm.
	@bash hack/build-tools.sh >/dev/null

##@ Development

.PHONY: run
run: deps ## Run everything locally: control plane, CRDs, operator, simulator, facade. Ctrl-C stops it.
	$(TSX) operator/src/devenv/run.ts

.PHONY: generate
generate: deps ## Regenerate crds/ from operator/src/api and operator/src/generated/ from ../shared/upstream.
	$(TSX) operator/src/api/generate-crds.ts
	node hack/generate-upstream-types.mjs

.PHONY: verify
verify: deps ## Fail if generated files are stale (regenerates in a scratch copy and diffs).
	bash hack/verify-generated.sh

##@ Checks

.PHONY: typecheck
typecheck: deps ## Type-check all TypeScript (strict).
	node_modules/.bin/tsc --noEmit -p tsconfig.json

.PHONY: lint
lint: deps ## Lint (eslint, strict type-checked rules).
	node_modules/.bin/eslint .

.PHONY: shellcheck
shellcheck: ## Check every *.sh (hack/, e2e/kind/, ...) with shellcheck (pinned, cached under ~/.cache/altostack).
	bash hack/shellcheck.sh

.PHONY: test-unit
test-unit: deps ## Unit tests of pure code (vitest).
	node_modules/.bin/vitest run --project unit --reporter=default --reporter=json --outputFile.json=.altostack/reports/unit.json
	node --test hack/

.PHONY: test-integration
test-integration: deps tools ## Integration tests on a real kube-apiserver + simulator.
	node_modules/.bin/vitest run --project integration --reporter=default --reporter=json --outputFile.json=.altostack/reports/integration.json

.PHONY: test-node-matrix
test-node-matrix: deps tools ## Unit suite + integration smoke set under Node 22 and 24 too (fetched from the npm registry, cached).
	bash hack/node-matrix.sh

.PHONY: test
test: deps ## Everything CI runs: typecheck, lint, shellcheck, verify, unit and integration tests, the Node matrix.
	rm -rf .altostack/reports
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory shellcheck
	$(MAKE) --no-print-directory verify
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory test-node-matrix
	node hack/test-summary.mjs .altostack/reports/unit.json .altostack/reports/integration.json

##@ Cleanup

.PHONY: clean
clean: ## Remove local state (.altostack/, dist/). The tool cache in ~/.cache/altostack stays.
	rm -rf .altostack dist coverage
