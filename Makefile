# iamwatch: every target runs from a fresh clone with only Go installed;
# tests start the local servers they need themselves (internal/testserver).

GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
BENCHDIR ?= testdata/bench
BENCH_RECORDS ?= 200000
BENCH_SMALL ?= $(shell expr $(BENCH_RECORDS) / 10)
BENCH_PROFILE ?= services
BENCH_RUNS ?= 1
FUZZTIME ?= 20s

.PHONY: all build test test-short browser-deps bench bench-data bench-people bench-objects bench-queries fuzz lint lint-cfn sample demo corpus-check clean

all: build test

build:
	$(GO) build -o bin/iamwatch ./cmd/iamwatch

## test: every test, with the race detector (what CI runs).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## browser-deps: Debian's chromium for the console's browser test (web/browser_test.go skips
## without it; screenshots land in web/testdata/screenshots/).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

## test-short: the tests that need no local server.
test-short:
	$(GO) test -short -count=1 $(PKGS)

## bench-data: two generated trails (S3 layout, gzipped), BENCH_SMALL and BENCH_RECORDS records,
## shaped like a real quiet account (BENCH_PROFILE=services; people: busy files of human activity).
BENCH_SMALL_DIR = $(BENCHDIR)/$(BENCH_PROFILE)-$(BENCH_SMALL)
BENCH_LARGE_DIR = $(BENCHDIR)/$(BENCH_PROFILE)-$(BENCH_RECORDS)
bench-data: $(BENCH_SMALL_DIR)/.done $(BENCH_LARGE_DIR)/.done
# A trail is written again when the generator changes.
GENTRAIL_SRC = $(filter-out %_test.go,$(wildcard internal/sample/*.go internal/sample/cmd/gentrail/*.go))
$(BENCHDIR)/$(BENCH_PROFILE)-%/.done: $(GENTRAIL_SRC)
	rm -rf $(@D)
	$(GO) run ./internal/sample/cmd/gentrail -profile $(BENCH_PROFILE) -records $* -out $(@D)
	touch $@

## bench: micro-benchmarks of the hot paths, then scan end to end against the decode limit on
## both trails, with the targets (PASS/MISS), then on trails of people's calls (bench-people),
## then the whole-history queries. BENCH_RUNS=3 on a shared machine; BENCH=X skips the
## micro-benchmarks' long tail.
bench: build bench-data
	$(GO) test -run '^$$' -bench '$(BENCH)' -skip 'BenchmarkWholeHistory' -benchmem $(PKGS)
	$(GO) run ./internal/scanbench -bin bin/iamwatch -runs $(BENCH_RUNS) $(BENCH_SMALL_DIR)/AWSLogs $(BENCH_LARGE_DIR)/AWSLogs
	$(MAKE) --no-print-directory bench-people
	$(MAKE) --no-print-directory bench-objects
	$(MAKE) --no-print-directory bench-queries

## bench-people: scan and scan --keep all against the decode limit on two trails of people's
## calls (gentrail -profile people: busy files, few service events, most events kept and
## matched), the shape of an attack trail such as the corpus's invictus one, where the writer
## does the most work a record.
PEOPLE_SMALL_DIR = $(BENCHDIR)/people-$(BENCH_SMALL)
PEOPLE_LARGE_DIR = $(BENCHDIR)/people-$(BENCH_RECORDS)
bench-people: build
	@$(MAKE) --no-print-directory BENCH_PROFILE=people bench-data
	$(GO) run ./internal/scanbench -bin bin/iamwatch -runs $(BENCH_RUNS) -scans default,keepall $(PEOPLE_SMALL_DIR)/AWSLogs $(PEOPLE_LARGE_DIR)/AWSLogs

## bench-objects: the same on two trails of an account that logs S3 data events (gentrail
## -profile objects: the services shape, 80% of the records an application's object calls,
## which the readers drop before the writer).
OBJECTS_SMALL_DIR = $(BENCHDIR)/objects-$(BENCH_SMALL)
OBJECTS_LARGE_DIR = $(BENCHDIR)/objects-$(BENCH_RECORDS)
bench-objects: build
	@$(MAKE) --no-print-directory BENCH_PROFILE=objects bench-data
	$(GO) run ./internal/scanbench -bin bin/iamwatch -runs $(BENCH_RUNS) -scans default,keepall $(OBJECTS_SMALL_DIR)/AWSLogs $(OBJECTS_LARGE_DIR)/AWSLogs

## bench-queries: each named query over the whole history of 1M real-shaped events, against
## the target (< 1 s a query), then the same queries reading the events table (no roll-up).
## The database is built once (about 2 minutes) into query/testdata/bench/.
bench-queries:
	@echo "== whole-history queries, 1M real-shaped events over 90 days (target < 1 s a query)"
	@mkdir -p query/testdata/bench
	@$(GO) test -run '^$$' -bench 'BenchmarkWholeHistory' -benchtime 3x -timeout 60m ./query >query/testdata/bench/queries.txt 2>&1; \
	  s=$$?; grep 'history_test' query/testdata/bench/queries.txt | sed 's/^ *history_test.go:[0-9]*: //'; \
	  test $$s -eq 0 || { cat query/testdata/bench/queries.txt; exit $$s; }

## fuzz: each fuzz target for FUZZTIME (FUZZ=Regexp picks targets), among them FuzzScan
## (file bytes through decode, the built-in rules and SQLite, read twice) and FuzzParseRule
## (rule files: accepted means it loads and evaluates). `make test` runs only their seeds.
FUZZ ?= .
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' | grep -E '$(FUZZ)' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg; \
	  done; \
	done

## lint: go vet, golangci-lint with .golangci.yml (staticcheck among its linters) and cfn-lint over
## every CloudFormation template we ship (skipped, saying so, when cfn-lint is absent; CI has it).
## golangci-lint is built from tools/go.mod, pinned, so its dependencies stay out of the module; a
## linter that cannot be built fails the target.
lint: bin/golangci-lint
	$(GO) vet $(PKGS)
	bin/golangci-lint run $(PKGS)
	@if command -v cfn-lint >/dev/null 2>&1; then $(MAKE) --no-print-directory lint-cfn; \
	else echo "lint: cfn-lint is not installed (pip install cfn-lint); CloudFormation templates not linted"; fi

bin/golangci-lint: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint

## lint-cfn: cfn-lint over the shipped templates, for a home and a non-home region (fails when
## cfn-lint is missing; CI runs it).
CFN_TEMPLATES ?= deploy/template.yaml deploy/forwarder.yaml
CFN_REGIONS   ?= us-east-1 eu-west-1
lint-cfn:
	cfn-lint --regions $(CFN_REGIONS) -- $(CFN_TEMPLATES)

## corpus-check: run the decoder and the rules over the real public samples in ../shared/corpus (when present),
## and check the alerts do not depend on the order records arrive in (the catalog alone, and scan into SQLite).
CORPUS ?= $(abspath ../shared/corpus)
corpus-check:
	$(GO) test ./cloudtrail -run TestCorpus -v -corpus $(CORPUS)
	$(GO) test ./detect -run Corpus -v -corpus $(CORPUS)
	$(GO) test ./pipeline -run Corpus -v -corpus $(CORPUS)

## sample: regenerate the shipped sample trail (sampledata/).
sample:
	$(GO) generate ./sampledata/...

## demo: the README's first command.
demo:
	$(GO) run ./cmd/iamwatch scan --sample --db demo.db

clean:
	rm -rf bin $(BENCHDIR) query/testdata/bench demo.db*
