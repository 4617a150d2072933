#!/usr/bin/env bash
# Ingestion benchmark (release build): a generated Kineto-like trace of MB megabytes, plain and gzip.
# Prints MB/s (decompressed bytes / wall time, best and median of 5 runs), events/s and peak RSS.
set -euo pipefail
MB=${1:-200}
cd "$(dirname "$0")/.."
mkdir -p bench-data
F=bench-data/bench-${MB}MB.json
[ -f "$F" ] && [ -f "$F.gz" ] || python3 tools/gen_kineto_trace.py "$F" --mb "$MB" --gzip
BIN=.build/release/reprise
SIZE=$(stat -c %s "$F")
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $F ($SIZE bytes uncompressed; gzip $(stat -c %s "$F.gz") bytes)"
for input in "$F" "$F.gz"; do
  times=()
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -o bench-data/time.txt "$BIN" ingest "$input" --json > bench-data/out.json
    times+=("$(cat bench-data/time.txt)")
  done
  events=$(python3 -c "import json;print(json.load(open('bench-data/out.json'))['events']['total'])")
  printf '%s\n' "${times[@]}" | python3 -c "
import sys
rows=[tuple(map(float,l.split())) for l in sys.stdin if l.strip()]
secs=sorted(r[0] for r in rows); rss=max(r[1] for r in rows)/1024
size=$SIZE; ev=$events
best, med = secs[0], secs[len(secs)//2]
print('%-34s best %.2f s = %.0f MB/s, median %.2f s = %.0f MB/s, %.2f M events/s, peak RSS %.0f MiB (%.2fx input)' % (
  '$input'.split('/')[-1], best, size/1e6/best, med, size/1e6/med, ev/best/1e6, rss, rss*1048576/size))
"
done

echo
echo "replay engine (one core): generated 8-rank data-parallel step, 8.1M events"
"$BIN" bench-replay --ranks 8 --kernels 500000 --repeats 5
echo "replay engine, 1024 ranks, 8.3M events"
"$BIN" bench-replay --ranks 1024 --kernels 4000 --repeats 3
