#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader (docs/reliability.md, "Fuzzing"): `make fuzz FUZZ_S=60`.
#
#   tools/fuzz.sh [SECONDS per target] [JOBS: targets run at once] [TARGET ...]
#
# Builds the libFuzzer targets of Fuzz/Sources (declared in Package.swift only when REPRISE_FUZZ
# is set) with -sanitize=fuzzer,address into .build/fuzz, then runs each for SECONDS on a scratch
# corpus .build/fuzz-corpus/<target> seeded from the committed seeds Fuzz/Seeds/<target>, with its
# dictionary from Fuzz/Dictionaries. Prints per target: executions, seconds, crashes (crash, leak,
# timeout or out-of-memory inputs, written to .build/fuzz-artifacts/<target>/) and the final
# corpus (files, bytes). Exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
JOBS=${2:-1}
shift $(( $# < 2 ? $# : 2 ))
ALL=(FuzzKineto FuzzGzip FuzzChakraET FuzzHostET FuzzChakraJSON FuzzSpecs FuzzShard FuzzKnobs)
TARGETS=("${@:-${ALL[@]}}")
[ $# -eq 0 ] && TARGETS=("${ALL[@]}")
SCRATCH=.build/fuzz
LOGS=.build/fuzz-logs
SWIFT=${SWIFT:-swift}

dictionary() {
  case "$1" in
    FuzzKineto | FuzzHostET | FuzzChakraJSON) echo Fuzz/Dictionaries/trace.dict ;;
    FuzzSpecs) echo Fuzz/Dictionaries/specs.dict ;;
    FuzzKnobs) echo Fuzz/Dictionaries/knobs.dict ;;
    *) echo "" ;;
  esac
}

for t in "${TARGETS[@]}"; do
  REPRISE_FUZZ=1 $SWIFT build -c debug --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address --product "$t" \
    2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Compiling|complete" | tail -3 >&2
done
BIN=$SCRATCH/debug

run_one() {
  local t=$1 seconds=$2 bin=$3
  local corpus=.build/fuzz-corpus/$t artifacts=.build/fuzz-artifacts/$t/ dict
  dict=$(dictionary "$t")
  mkdir -p "$corpus" "$artifacts" "$LOGS"
  cp -n Fuzz/Seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  local before after start end
  before=$(find "$artifacts" -type f | wc -l)
  start=$(date +%s.%N)
  # -rss_limit_mb: an input that makes a reader hold more than 2 GiB is a finding (oom-*).
  # SWIFT_BACKTRACE: Swift's crash handler would read the stack under ASan and hide the trap.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp} "$bin/$t" "$corpus" -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" ${dict:+-dict=$dict} \
    >"$LOGS/$t.log" 2>&1 || true
  end=$(date +%s.%N)
  after=$(find "$artifacts" -type f | wc -l)
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$LOGS/$t.log" | tail -1 | grep -o '[0-9]*$' || true)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$LOGS/$t.log" | tail -1 | tr -d '#' || true)
  printf '%s %s %.0f %s %s %s\n' "$t" "${execs:-0}" "$(echo "$end - $start" | bc)" "$((after - before))" \
    "$(find "$corpus" -type f | wc -l)" "$(du -sb "$corpus" | cut -f1)" >"$LOGS/$t.row"
}
export -f run_one dictionary
export LOGS

printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} bash -c "run_one {} $SECONDS_PER_TARGET $BIN"

printf '%-16s %12s %8s %8s %14s %14s\n' target executions seconds crashes corpus_files corpus_bytes
found=0
for t in "${TARGETS[@]}"; do
  read -r name execs secs crashes files bytes <"$LOGS/$t.row"
  printf '%-16s %12s %8s %8s %14s %14s\n' "$name" "$execs" "$secs" "$crashes" "$files" "$bytes"
  if [ "$crashes" -gt 0 ]; then
    found=1
    echo "  $t: see $LOGS/$t.log and .build/fuzz-artifacts/$t/" >&2
  fi
done
exit $found
