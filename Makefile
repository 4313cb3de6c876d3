# amigo: GitOps for immutable EC2 deployments.
GO       ?= go
BIN      ?= bin/amigo
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...

.PHONY: run test e2e bench lint build docker tools clean

## run: the embedded demo: example estate, simulated cloud, HTTP on 127.0.0.1:8080
run: build
	$(BIN) run

## test: unit, scenario and conformance tests (servers they need start themselves)
test:
	$(GO) test -count=1 $(PKGS)

## e2e: tests against real Gitea and Jaeger servers (built once, cached under ~/.cache/amigo)
e2e:
	GITEA_BIN=$$(.ci/tool-gitea) JAEGER_BIN=$$(.ci/tool-jaeger) AMIGO_E2E=1 \
		$(GO) test -count=1 -run 'E2E|Gitea|Jaeger' ./cmd/amigo/ ./drivers/gitea/... ./reconciler/telemetry/...

## bench: the performance table (JSON to $$BENCH_OUT, default bench.json), then the Go benchmarks
bench:
	$(GO) run ./cmd/amigo-bench
	$(GO) test -run '^$$' -bench 'Plan|RevertToWeights' -benchtime 10x -benchmem ./reconciler/

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## build: the amigo binary
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/amigo

## docker: the container image
docker:
	docker build --build-arg VERSION=$(VERSION) -t amigo:$(VERSION) .

clean:
	rm -rf bin .amigo
