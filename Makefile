# Usual targets. `go test ./...` is the test command; CI runs .ci/run.
GO ?= go
FUZZTIME ?= 30s

.PHONY: build test ci vet fmt fuzz conformance h2spec bench benchkit bench-peers bench-full demo
# The version edgeward --version prints; the tag or commit by default.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS ?= -X github.com/edgeward/edgeward/internal/cli.Version=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/edgeward ./cmd/edgeward

test:
	$(GO) test ./...

ci:
	bash .ci/run

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Every fuzz target, FUZZTIME each (go test -fuzz runs one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

# The public HTTP cache-tests suite against the edge (needs node and npm).
conformance:
	bash scripts/conformance.sh

# The h2spec HTTP/2 conformance suite against a real edge over TLS and
# h2c (TestH2Spec; the cases only Go's HTTP/2 server can change are listed
# in docs/security.md).
H2SPEC ?= github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
h2spec:
	GOFLAGS= $(GO) install $(H2SPEC)
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" EDGEWARD_REQUIRE_TOOLS=1 $(GO) test -count=1 -run '^TestH2Spec$$' -v ./internal/edge

# Go micro-benchmarks of the hot paths, benchstat-ready
# (make bench > new.txt; benchstat old.txt new.txt).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./internal/...

# The benchmark harness's helper. bench/ is a Go module of its own, so
# that edgeward's go.mod carries no load-generator dependency.
benchkit:
	cd bench && $(GO) build -o ../bin/benchkit ./cmd/benchkit

# edgeward side by side with nginx, Caddy and HAProxy on this machine
# (bench/run.sh --quick, the issue-15 goals first): about 3 minutes;
# results in bench/out/quick.md.
bench-peers:
	bash bench/run.sh --quick

# The full run with a CPU profile of the hit path, about 15 minutes;
# results in bench/results/latest.md (quoted by docs/benchmarks.md).
bench-full:
	bash bench/run.sh --profile

demo:
	$(GO) run ./cmd/edgeward demo
