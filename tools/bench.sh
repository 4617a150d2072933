#!/usr/bin/env bash
# Speed benchmark (release build), best and median of REPEATS (default 5) runs of the whole command:
#  1. `reprise ingest` of generated traces of both mixes (tools/gen_kineto_trace.py): `steps`
#     (MB megabytes: profiler steps, python functions, memory events) and `serial` (150 MB:
#     op -> launch -> kernel on one stream with flows), plain and gzip; MB/s of decompressed
#     JSON, events/s, peak RSS; beside CPython's json.load on the serial file in the same run.
#  2. `reprise report` on 8 ranks x 40 MB of the serial mix: wall time, peak RSS, bytes written
#     (default summary; once with --detail and --csv for comparison).
#  3. The replay engine on generated graphs.
# usage: tools/bench.sh [MB]   (REPEATS=N to change the repeat count)
set -euo pipefail
MB=${1:-200}
REPEATS=${REPEATS:-5}
cd "$(dirname "$0")/.."
BIN=.build/release/reprise
D=bench-data
mkdir -p "$D"
STEPS=$D/bench-${MB}MB.json
SERIAL=$D/serial-150MB.json
[ -f "$STEPS" ] && [ -f "$STEPS.gz" ] || python3 tools/gen_kineto_trace.py "$STEPS" --mb "$MB" --gzip
[ -f "$SERIAL" ] && [ -f "$SERIAL.gz" ] || python3 tools/gen_kineto_trace.py "$SERIAL" --mb 150 --mix serial --gzip
for r in 0 1 2 3 4 5 6 7; do
  f=$D/ranks8/rank$r.json
  [ -f "$f" ] || { mkdir -p $D/ranks8; python3 tools/gen_kineto_trace.py "$f" --mb 40 --mix serial --rank $r --world 8 >/dev/null; }
done
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# Runs "$@" REPEATS times; prints "best median peakRSS_KiB" (wall seconds).
timed() {
  local rows=()
  for _ in $(seq "$REPEATS"); do
    if ! /usr/bin/time -f "%e %M" -o $D/time.txt "$@" > $D/out.txt; then
      echo "bench: failed: $*" >&2
      exit 1
    fi
    rows+=("$(cat $D/time.txt)")
  done
  printf '%s\n' "${rows[@]}" | python3 -c "
import sys
rows=[tuple(map(float,l.split())) for l in sys.stdin if l.strip()]
secs=sorted(r[0] for r in rows)
print(secs[0], secs[len(secs)//2], int(max(r[1] for r in rows)))"
}

echo
echo "== ingest (whole command, best / median of $REPEATS)"
for input in "$STEPS" "$STEPS.gz" "$SERIAL" "$SERIAL.gz"; do
  read -r best med rss < <(timed "$BIN" ingest "$input" --json)
  "$BIN" ingest "$input" --json > $D/ingest.json
  plain=${input%.gz}
  python3 - "$input" "$plain" "$best" "$med" "$rss" <<'EOF'
import json, os, sys
path, plain, best, med, rss = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
size = os.path.getsize(plain)
events = json.load(open("bench-data/ingest.json"))["events"]["total"]
print("%-26s %6.1f MB  best %.3f s = %4.0f MB/s, median %.3f s = %4.0f MB/s, %5.2f M events/s, peak RSS %4.0f MiB (%.2fx input)" % (
    os.path.basename(path), size / 1e6, best, size / 1e6 / best, med, size / 1e6 / med, events / best / 1e6,
    rss / 1024, rss * 1024 / size))
EOF
done
read -r jbest jmed jrss < <(timed python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$SERIAL")
read -r sbest smed _ < <(timed "$BIN" ingest "$SERIAL" --json)
python3 -c "
jb,jm,sb,sm=$jbest,$jmed,$sbest,$smed
print('json.load %-16s best %.2f s, median %.2f s, peak RSS %d MiB; reprise ingest is %.1fx (best) / %.1fx (median) faster' % (
  'serial-150MB.json', jb, jm, $jrss // 1024, jb / sb, jm / sm))"

echo
echo "== report on 8 ranks x 40 MB (serial mix)"
read -r best med rss < <(timed "$BIN" report $D/ranks8 -o $D/report.json)
echo "reprise report (default)    best $best s, median $med s, peak RSS $((rss / 1024)) MiB, wrote $(stat -c %s $D/report.json) bytes"
read -r best _ rss < <(REPEATS=1 timed "$BIN" report $D/ranks8 --detail -o $D/report-detail.json --csv $D/report-csv)
echo "reprise report --detail --csv  $best s, peak RSS $((rss / 1024)) MiB, wrote $(stat -c %s $D/report-detail.json) bytes JSON + $(du -sb $D/report-csv | cut -f1) bytes CSV"

echo
echo "replay engine (one core): generated 8-rank data-parallel step, 8.1M events"
"$BIN" bench-replay --ranks 8 --kernels 500000 --repeats 5
echo "replay engine, 1024 ranks, 8.3M events"
"$BIN" bench-replay --ranks 1024 --kernels 4000 --repeats 3
