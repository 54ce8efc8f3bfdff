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
FUNCTIONS := $(notdir $(wildcard functions/*))

export LATCH_CACHE := $(CACHE)

.PHONY: test unit integration lint build emulators-up emulators-down test-localstack clean

## test: unit tests (race), then the integration suite on the local emulators
test: unit integration

## unit: unit tests with the race detector; nothing needs to run
unit:
	$(GO) test $(GOTEST_FLAGS) -race ./...

## integration: start the emulators, run the integration suite, stop them
integration:
	localstack/with-stack.sh $(GO) test $(GOTEST_FLAGS) -tags integration ./...

## lint: gofmt, go vet, staticcheck (pinned)
lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
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

## emulators-up / emulators-down: the Docker-free local AWS stack
emulators-up:
	localstack/stack.sh up
	@echo "source $$(localstack/stack.sh env) to point the AWS SDK at it"

emulators-down:
	localstack/stack.sh down

## test-localstack: the integration suite against LocalStack 4.14.0 (needs Docker)
test-localstack:
	localstack/with-localstack.sh $(GO) test $(GOTEST_FLAGS) -tags integration ./...

clean:
	rm -rf bin .run
