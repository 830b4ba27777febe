# distill — see README.md. Every target is safe to re-run.
SHELL := /bin/bash
export DISTILL_WORK ?= $(CURDIR)/.work
TESTBED := integration/testbed/testbed.sh
GO ?= go

.PHONY: all bin unit integration test setup env down demo bench image golden clean

all: bin

# the same flags as the frontend image's (Dockerfile): one version's CLI and
# frontend image are the same bytes, so their helper steps share the cache
VERSION ?= dev
LDFLAGS := -s -w -X github.com/distill-build/distill/internal/version.Version=$(VERSION)
bin:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o bin/distill ./cmd/distill

# unit tests: no engine needed
unit:
	$(GO) vet ./...
	$(GO) vet -tags integration ./integration/...
	$(GO) test -count=1 ./...

# end-to-end tests on the real engine; starts what is not running and stops what it started
integration: bin
	$(TESTBED) setup
	$(TESTBED) with $(GO) test -tags integration -count=1 -timeout 45m -v ./integration/... ./helper/...

# unit suite first (no root, no engine); then the tagged e2e suite, which includes imagetest's
# runc and Unpack tests (they need root and the runc that setup installs)
test: bin
	$(TESTBED) setup
	$(MAKE) --no-print-directory unit
	$(TESTBED) with $(GO) test -tags integration -count=1 -timeout 45m -v ./integration/... ./helper/...

# bring the test bed up (cold: installs packages, builds tools and stand-in images)
setup: bin
	$(TESTBED) setup
	$(TESTBED) up
	$(TESTBED) env

env:
	@$(TESTBED) env

down:
	$(TESTBED) down

# build examples/python-http with distill on the local engine, run it, print a summary
demo: bin
	$(TESTBED) setup
	$(TESTBED) up
	$(GO) run ./integration/cmd/demo -distill bin/distill -example examples/python-http

# the frontend image (pushed to the test bed's registry)
image:
	$(TESTBED) setup
	$(TESTBED) up
	$(TESTBED) frontend-image

# regenerate the checked-in `distill llb --json` goldens
golden:
	$(GO) test ./cmd/distill/ -run TestGolden -update

bench: bin
	$(TESTBED) setup
	$(TESTBED) with $(GO) run ./bench/cmd/bench

clean:
	rm -rf bin
