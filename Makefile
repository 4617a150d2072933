# Reprise — see README.md. `make demo` and `make test` work on a fresh machine with Swift.
SWIFT ?= swift
BENCH_MB ?= 200

.PHONY: all bootstrap build release demo test lint format bench samples clean

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

# Style and shape: swift-format (.swift-format; Sources/.swift-format adds NeverForceUnwrap) and
# tools/check_code_shape.py (a thin CLI, no function over 100 lines). docs/Architecture.md.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests
	python3 tools/check_code_shape.py

# Rewrites Sources and Tests in the house style (what `make lint` checks).
format:
	$(SWIFT) format format --in-place --recursive Sources Tests

# Release-build benchmark of ingestion on a generated ≥200 MB trace (plain and gzip).
bench: release
	tools/bench.sh $(BENCH_MB)

# Regenerate the bundled sample traces (deterministic).
samples:
	python3 tools/make_sample_traces.py Traces/generated

clean:
	rm -rf .build out bench-data .venv
