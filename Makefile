# Build, test and lint provkit.
#
#   make test        install the tools, start the outside programs, run every
#                    test with the race detector, stop the programs
#   make test-short  go test ./... alone: tests that need an outside program skip
#   make lint        gofmt, go vet, staticcheck (pinned in internal/tools), and the
#                    exported-API changes since the last release tag (.ci/apidiff)
#   make bench       benchmarks only
#   make tools       build the pinned tools and install the Debian packages
#
# PROVKIT_TOOLS_BIN (default ~/.cache/provkit/bin) caches the tool binaries.
# PROVKIT_TEST_STATE is the services' state dir; by default each `make test`
# gets its own, so that two runs on one machine do not meet.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TOOLS_BIN ?= $(or $(PROVKIT_TOOLS_BIN),$(HOME)/.cache/provkit/bin)
export PROVKIT_TOOLS_BIN := $(TOOLS_BIN)

GO ?= go
TEST_FLAGS ?= -race -count=1

.PHONY: test test-short lint bench tools

tools:
	internal/tools/install.sh

# One recipe, one shell: the trap stops the services whatever go test does,
# and the recipe exits with go test's status.
test: tools
	state="$${PROVKIT_TEST_STATE:-$$(mktemp -d /tmp/provkit-test.XXXXXX)}"; \
	export PROVKIT_TEST_STATE="$$state"; \
	trap 'internal/tools/services.sh stop' EXIT; \
	internal/tools/services.sh start; \
	source "$$state/env"; \
	status=0; \
	$(GO) test $(TEST_FLAGS) ./... || status=$$?; \
	exit $$status

test-short:
	$(GO) test ./...

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [[ -n "$$unformatted" ]]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@test -x "$(TOOLS_BIN)/staticcheck" || { echo "staticcheck not in $(TOOLS_BIN): run make tools"; exit 1; }
	"$(TOOLS_BIN)/staticcheck" ./...
	.ci/apidiff

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
