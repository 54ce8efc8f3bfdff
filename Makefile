# latch — the one front door. Every command in the README is a target here.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

GO        ?= go
CACHE     ?= $(or $(LATCH_CACHE),$(CURDIR)/.cache)
GOBIN_DIR := $(CACHE)/gobin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GOBIN_DIR)/staticcheck-$(STATICCHECK_VERSION)
# Two cores on CI: two packages at a time, race detector on unit tests.
GOTEST_FLAGS ?= -p 2 -count=1
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))

# SAM: the template, its sam config, and aws-sam-cli + cfn-lint pinned in
# tools/requirements-sam.txt, installed into a cached venv keyed by that file.
TEMPLATE      := infra/template.yaml
SAM_CONFIG    := $(CURDIR)/infra/samconfig.toml
SAM_CONFIG_ENV ?= default
SAM_BUILD_DIR := .aws-sam/build
SAM_REQUIREMENTS := tools/requirements-sam.txt
SAM_VENV      := $(CACHE)/venv-sam-$(shell sha256sum $(SAM_REQUIREMENTS) | cut -c1-12)
SAM           := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
CFN_LINT      := $(SAM_VENV)/bin/cfn-lint
SAM_DEPLOY_FLAGS ?=

export LATCH_CACHE := $(CACHE)

# BACKEND picks the emulators of demo, bench-integration and emulators-up:
# default (DynamoDB Local + moto), localstack (LocalStack 4.14.0, host mode)
# or ministack (MiniStack 1.5.33, every service its own).
BACKEND ?= default
# WITH_STACK runs a command against a stack of its own ('latch emulators exec').
WITH_STACK := localstack/with-stack.sh

.PHONY: test test-slow unit integration integration-localstack integration-ministack emulators-check examples demo bench bench-integration bench-transact lint build \
	emulators-install emulators-up emulators-down test-localstack-docker clean chaos chaos-large \
	lint-template sam-build deploy deploy-local deploy-local-invoices chaos-deployed fuzz new-check

## test: the quick stage, the README's test command: unit tests (race), the
## integration suite on the default backend, the example module, sam build
## and the demo, TEST_JOBS of them at a time (each one's output in one block).
## Two at a time suits two cores: the race-built unit tests are CPU-bound while
## the integration suite and the demo mostly wait on their emulators. Each stage
## runs once; emulator installs, the SAM venv and staticcheck are cached.
TEST_STAGES := unit integration examples sam-build demo
TEST_JOBS ?= 2
test:
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target $(TEST_STAGES)

## test-slow: the slow stage, which .ci/run runs after make test: every check
## too slow for the quick stage. A helper adding a slow check lists it here.
SLOW_CHECKS := integration-localstack integration-ministack emulators-check chaos new-check deploy-local deploy-local-invoices chaos-deployed
test-slow: $(SLOW_CHECKS)

## unit: unit tests with the race detector; nothing needs to run
unit:
	$(GO) test $(GOTEST_FLAGS) -race ./...

## integration: start the default emulators, run the integration suite, stop them
## integration-localstack, integration-ministack: the same on LocalStack, on MiniStack
integration:
	LATCH_BACKEND=default $(WITH_STACK) $(GO) test $(GOTEST_FLAGS) -tags integration ./...

integration-localstack:
	LATCH_BACKEND=localstack $(WITH_STACK) $(GO) test $(GOTEST_FLAGS) -tags integration ./...

integration-ministack:
	LATCH_BACKEND=ministack $(WITH_STACK) $(GO) test $(GOTEST_FLAGS) -tags integration ./...

## new-check: `latch new` as a user runs it: a module with a function of
## every trigger kind, its vet and tests, then `latch local` on its template
## with each function triggered (cmd/latch/new_integration_test.go)
new-check:
	LATCH_BACKEND=default LATCH_REQUIRE_EMULATORS=1 $(WITH_STACK) $(GO) test -count=1 -tags 'integration slow' -run TestNewModuleRunsUnderLatchLocal -v ./cmd/latch/

## emulators-check: a built latch, from an empty directory, starts each
## backend, reaches a queue and a table through 'latch emulators env', stops
## it, and leaves no process behind
emulators-check:
	$(GO) test -count=1 -tags emulators -run TestFromAnEmptyDirectory -v ./internal/emulators/

## examples: the module outside the main module, as a user's service would be
## (examples/invoices, its own go.mod): vet, unit tests on the test kit's
## fakes, then, under the latch its go.mod pins (`go tool latch emulators
## exec`, as a user runs it), its integration test and its end-to-end run of
## `latch local --template` on its own template
EXAMPLES := examples/invoices
examples:
	@for d in $(EXAMPLES); do \
	  echo "== $$d"; \
	  (cd $$d && $(GO) vet ./... && $(GO) vet -tags integration ./... && $(GO) test $(GOTEST_FLAGS) -race ./... && \
	    LATCH_REQUIRE_EMULATORS=1 $(GO) tool latch emulators exec -- $(GO) test $(GOTEST_FLAGS) -tags integration ./...) || exit 1; \
	done

## bench: every benchmark that needs nothing running, benchstat-friendly
## (-count 6, -benchmem) into bench.txt; bench-integration: the ones on the
## emulators (DynamoDB Local round trips) into bench-integration.txt
BENCH_FLAGS ?= -run '^$$' -bench . -benchmem -count 6
bench:
	$(GO) test $(BENCH_FLAGS) ./... | tee bench.txt

bench-integration:
	LATCH_BACKEND=$(BACKEND) $(WITH_STACK) $(GO) test -tags integration $(BENCH_FLAGS) ./pkg/... | tee bench-integration.txt

## bench-transact: the DynamoDB benchmarks of both idempotency forms (Do,
## Transact; the SQS processor as NewSQS and NewSQSTx; the poller) behind
## the latency proxy of internal/latency at one-way delays of 0, 2 and 5 ms,
## on emulators of their own, into bench-transact.txt; then the medians and
## the Transact ÷ Do ratios that docs/transact.md shows. About 10 minutes.
BENCH_TRANSACT_FLAGS ?= -run '^$$' -bench 'BenchmarkRecord|BenchmarkSQSDynamoDB|BenchmarkPollDynamoDB' -benchmem -count 6
bench-transact:
	LATCH_BACKEND=default $(WITH_STACK) $(GO) test -p 1 -tags integration $(BENCH_TRANSACT_FLAGS) ./pkg/idempotency/ ./pkg/handler/ | tee bench-transact.txt
	$(GO) run ./tools/benchratio bench-transact.txt

## fuzz: every Fuzz target of the module (found with go test -list), each for
## FUZZTIME (default 10s); a failing input lands in the package's testdata/fuzz
FUZZTIME ?= 10s
fuzz:
	@targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { n[c++] = $$1; next } /^ok/ { for (i = 0; i < c; i++) print $$2 "," n[i]; c = 0 }'); \
	if [ -z "$$targets" ]; then echo "fuzz: no Fuzz targets found"; exit 1; fi; \
	for t in $$targets; do \
	  pkg=$${t%%,*}; name=$${t#*,}; \
	  echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## demo: start the emulators (BACKEND=default|localstack), run the example
## functions locally and drive the order scenario end to end (live progress,
## summary, invariants); stop them
demo:
	LATCH_BACKEND=$(BACKEND) $(WITH_STACK) $(GO) run ./cmd/latch demo

## chaos: the fault-injection run (internal/chaos) on emulators of its own:
## 1,015 messages with duplicates and poison, function processes and
## DynamoDB Local killed with SIGKILL, then the invariants from the tables
## and queues (DLQ copies counted per source message id); about 4 minutes on two
## cores. CHAOS_FLAGS go to tools/chaos (-messages, -kills, -seed).
## chaos-large: the same with 10,000 messages and 24 kills, by hand and
## not in CI (about ten times as long)
CHAOS_FLAGS ?=
chaos:
	$(GO) run ./tools/chaos $(CHAOS_FLAGS)

chaos-large:
	$(GO) run ./tools/chaos -messages 10000 -kills 24 $(CHAOS_FLAGS)

## chaos-deployed: the same message mix and invariants against the stack that
## sam deploy put on MiniStack: its event source mappings, not latch's runner,
## drive the functions, and 8 of its busy function processes are SIGKILLed
chaos-deployed: $(SAM_VENV)/.ok
	$(GO) run ./tools/chaos -deployed $(SAM_VENV)/bin/sam

## lint: gofmt, go vet, staticcheck (pinned), the doc-comment check
## (tools/doccheck: no doc comment names an identifier that does not
## exist), then the template lint
lint: $(STATICCHECK) lint-template
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) run ./tools/doccheck . $(EXAMPLES)
	$(GO) vet -tags "integration slow" ./cmd/latch/
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration ./...

$(STATICCHECK):
	mkdir -p $(GOBIN_DIR)
	GOBIN=$(GOBIN_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(GOBIN_DIR)/staticcheck $@

## build: one stripped linux/arm64 bootstrap per function in bin/<name>/bootstrap
build:
	@for f in $(FUNCTIONS); do \
	  echo "build functions/$$f -> bin/$$f/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## lint-template: cfn-lint and sam validate --lint on infra/template.yaml (no AWS calls)
lint-template: $(SAM_VENV)/.ok
	$(CFN_LINT) -- $(TEMPLATE)
	$(SAM) validate --config-file $(SAM_CONFIG) --config-env $(SAM_CONFIG_ENV) --template-file $(TEMPLATE) --lint

## sam-build: sam build without Docker (local Go toolchain); checks every function has a bootstrap
sam-build: $(SAM_VENV)/.ok
	CGO_ENABLED=0 GOFLAGS="$$($(GO) env GOFLAGS) -tags=lambda.norpc -ldflags=-s" \
	  $(SAM) build --config-file $(SAM_CONFIG) --config-env $(SAM_CONFIG_ENV) --template-file $(TEMPLATE) --build-dir $(SAM_BUILD_DIR)
	$(SAM_VENV)/bin/python tools/check-sam-build.py $(SAM_BUILD_DIR)

## deploy-local: deploy to a local cloud and drive it as a user would, with
## no latch code playing AWS. Under 'latch emulators exec --backend ministack'
## (MiniStack, functions run as processes of this machine, endpoints set at
## its start), tools/deploylocal runs the pinned sam build (Architecture =
## this machine's; a real deploy keeps arm64) and sam deploy (create, then an
## update), checks the deployed resources against the template, times cold
## and warm invokes through MiniStack and latch's local runner, runs the
## demo's order scenario through MiniStack's own mappings and rules, and
## runs sam delete; first, the tests of MiniStack's gaps it works around.
## deploy-local-invoices: the same for examples/invoices from its own
## directory, under the latch its go.mod pins.
DEPLOY_LOCAL_WORK := $(CURDIR)/.run/deploy-local
deploy-local: $(SAM_VENV)/.ok
	mkdir -p $(DEPLOY_LOCAL_WORK)
	$(GO) build -o $(DEPLOY_LOCAL_WORK)/deploylocal ./tools/deploylocal
	$(GO) run ./cmd/latch emulators exec --backend ministack -- \
	  $(GO) test -count=1 -tags integration -run '^TestGap' ./internal/localcloud/
	$(GO) run ./cmd/latch emulators exec --backend ministack -- \
	  $(DEPLOY_LOCAL_WORK)/deploylocal -sam $(SAM_VENV)/bin/sam -dir infra -scenario orders -stack latch-local -work $(DEPLOY_LOCAL_WORK)/orders

deploy-local-invoices: $(SAM_VENV)/.ok
	mkdir -p $(DEPLOY_LOCAL_WORK)
	$(GO) build -o $(DEPLOY_LOCAL_WORK)/deploylocal ./tools/deploylocal
	cd examples/invoices && $(GO) tool latch emulators exec --backend ministack -- \
	  $(DEPLOY_LOCAL_WORK)/deploylocal -sam $(SAM_VENV)/bin/sam -dir . -scenario invoices -stack invoices-local -work $(DEPLOY_LOCAL_WORK)/invoices

## deploy: sam build, then sam deploy (stack, region, capabilities from infra/samconfig.toml)
deploy: sam-build
	$(SAM) deploy --config-file $(SAM_CONFIG) --config-env $(SAM_CONFIG_ENV) --template-file $(SAM_BUILD_DIR)/template.yaml $(SAM_DEPLOY_FLAGS)

# The venv's name carries the requirements' hash, so an update gets a new venv;
# the lock keeps two checkouts sharing $(CACHE) from installing it at once.
$(SAM_VENV)/.ok:
	mkdir -p $(CACHE)
	flock $(SAM_VENV).lock sh -c 'test -f $@ || { \
	  echo "installing aws-sam-cli and cfn-lint into $(SAM_VENV)"; \
	  rm -rf $(SAM_VENV) && python3 -m venv $(SAM_VENV) && \
	  $(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(SAM_REQUIREMENTS) && \
	  touch $@; }'

## emulators-up / emulators-down: the Docker-free local AWS stack of this
## project (BACKEND=default|localstack|ministack); emulators-install: fill the cache only
emulators-install:
	$(GO) run ./cmd/latch emulators install --backend default
	$(GO) run ./cmd/latch emulators install --backend localstack
	$(GO) run ./cmd/latch emulators install --backend ministack

emulators-up:
	$(GO) run ./cmd/latch emulators up --backend $(BACKEND)

emulators-down:
	$(GO) run ./cmd/latch emulators down

## test-localstack-docker: the integration suite against LocalStack 4.14.0 in
## Docker (localstack/docker-compose.yml), for machines with a Docker engine
test-localstack-docker:
	localstack/with-localstack.sh $(GO) test $(GOTEST_FLAGS) -tags integration ./...

clean:
	rm -rf bin .run .aws-sam
