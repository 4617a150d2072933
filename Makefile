# Reprise — see README.md. `make demo` and `make test` work on a fresh machine with Swift.
SWIFT ?= swift
BENCH_MB ?= 200
SCALE_RANKS ?= 1024
SCALE_EVENTS ?= 100000
FUZZ_S ?= 60
FUZZ_JOBS ?= 1

.PHONY: all bootstrap build release demo test lint format fuzz bench bench-hta bench-scale bench-huge samples clean

all: build

bootstrap:
	@tools/bootstrap

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release --product reprise

# The main job on the bundled traces in Traces/: ingest each set, write out/*.json.
demo: build
	.build/debug/reprise demo --traces Traces --output out

# Unit, importer, differential, fuzz and CLI tests (the CLI tests run the debug binary), then
# the Python-side checks: real reports against docs/report.schema.json and the example notebook
# executed headless (installs tools/notebook/requirements.txt into .venv/ when missing).
test: build
	$(SWIFT) test
	tools/pycheck.sh

# libFuzzer on every reader, FUZZ_S seconds each, FUZZ_JOBS at once: a sanitizer build
# (-sanitize=fuzzer,address) of Fuzz/Sources into .build/fuzz, scratch corpora in
# .build/fuzz-corpus seeded from Fuzz/Seeds; a table of executions, crashes and corpus sizes.
fuzz: bootstrap
	tools/fuzz.sh $(FUZZ_S) $(FUZZ_JOBS)

# Style and shape: swift-format (.swift-format; Sources/.swift-format adds NeverForceUnwrap) and
# tools/check_code_shape.py (a thin CLI, no function over 100 lines). docs/Architecture.md.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Fuzz/Sources
	python3 tools/check_code_shape.py

# Rewrites Sources and Tests in the house style (what `make lint` checks).
format:
	$(SWIFT) format format --in-place --recursive Sources Tests Fuzz/Sources

# Release-build benchmarks (docs/performance.md): ingest of both generated mixes (plain and
# gzip) beside json.load, `reprise report` on 8 ranks x 40 MB, the replay engine.
bench: release
	tools/bench.sh $(BENCH_MB)

# `reprise report` beside HTA 0.5 (installed into .venv) on the same 8 ranks, with the ratio.
bench-hta: release
	tools/bench_vs_hta.sh

# Scale-out: 1,024 generated ranks of ~100k events sharded through Ray, then ingest, replay (full
# and folded) and report from the shards (~30 GB of JSON in bench-data/; docs/performance.md).
bench-scale: release
	tools/bench_scale.sh $(SCALE_RANKS) $(SCALE_EVENTS)

# One 4 GiB rank, plain and gzip: peak RSS against 1.2 x the graph + 256 MiB (docs/reliability.md).
bench-huge: release
	tools/bench_huge.sh $(HUGE_MB)

# Regenerate the bundled sample traces (deterministic).
samples:
	python3 tools/make_sample_traces.py Traces/generated

clean:
	rm -rf .build out bench-data .venv .venv-hta
