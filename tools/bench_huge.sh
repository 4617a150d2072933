#!/usr/bin/env bash
# Huge-input benchmark (docs/reliability.md, "Huge inputs in bounded memory"; docs/performance.md,
# "A 4 GiB rank"): one generated rank of MB megabytes of Kineto JSON (serial mix), plain and
# `gzip -1`, ingested once each; prints wall time, peak RSS, the graph's bytes (`graph.bytes`)
# and the peak against the goal of 1.2 × the graph + 256 MiB.
# usage: tools/bench_huge.sh [MB]      (default 4295: 4 GiB of JSON, 10.95 M events; needs ~9 GB of disk)
set -euo pipefail
MB=${1:-4295}
cd "$(dirname "$0")/.."
BIN=$PWD/.build/release/reprise
D=bench-data
F=$D/huge-$MB.json
mkdir -p "$D"
[ -f "$F" ] || python3 tools/gen_kineto_trace.py "$F" --mb "$MB" --mix serial
[ -f "$F.gz" ] || gzip -1 -k "$F"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for input in "$F" "$F.gz"; do
  /usr/bin/time -f "%e %M" -o "$D/huge-time.txt" "$BIN" ingest "$input" --json > "$D/huge-ingest.json"
  python3 - "$input" "$D/huge-time.txt" "$D/huge-ingest.json" <<'PY'
import json, os, sys
path, timing, out = sys.argv[1:4]
secs, kib = open(timing).read().split()
peak = int(kib) * 1024
d = json.load(open(out))
graph = d["graph"]["bytes"]
goal = 1.2 * graph + (256 << 20)
print("%-28s %7.1f s  %6.0f MB/s  peak RSS %.3f GB  graph %.3f GB (%d events)  peak/graph %.2f  goal %.3f GB: %s" % (
    os.path.basename(path), float(secs), d["files"][0]["decompressedBytes"] / 1e6 / float(secs), peak / 1e9,
    graph / 1e9, d["events"]["kept"], peak / graph, goal / 1e9, "met" if peak <= goal else "NOT met"))
PY
done
