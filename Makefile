# qunguan — common tasks. The README's two commands are all a newcomer needs;
# these are the habits of people working on the code.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build test lint bench tidy fuzz

build:
	go build -ldflags "$(LDFLAGS)" -o qunguan ./cmd/qunguan

# Exactly what CI runs (.ci/run).
test:
	go test -race ./...

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	go vet ./...
	@command -v golangci-lint >/dev/null && golangci-lint run || echo "golangci-lint not installed; ran gofmt and go vet"

# Benchmarks named by the issues, each with its comparison in the same run.
bench:
	go test -run '^$$' -bench . -benchmem ./store/ ./plugins/...
	cd bench/matchbench && go test -run '^$$' -bench . -benchmem .

tidy:
	go mod tidy
	cd bench/matchbench && go mod tidy

fuzz:
	go test -run '^$$' -fuzz FuzzNormalize -fuzztime 60s ./plugins/moderation/engine/
	go test -run '^$$' -fuzz FuzzMatch -fuzztime 60s ./plugins/moderation/engine/
