#!/usr/bin/env bash
# Scale-out benchmark (docs/performance.md, "Scale-out"): RANKS generated ranks of about EVENTS
# events each (tools/gen_scale_ranks.py: the `steps` mix, data-parallel replicas with jitter),
#  1. sharded through Ray on this machine (python -m reprise_ray shard, one task per rank file);
#  2. the reduce from the shards: `reprise ingest`, `replay` (full, then --fold-symmetric when this
#     build has it) and `report`, each timed once with its peak RSS;
#  3. shard bytes against JSON bytes, and the shard load rate (tools/shard_load_rate.py: CPU time of the
#     per-shard reads and of the column decode, user and system, beside a fresh-memory probe).
# usage: tools/bench_scale.sh [RANKS] [EVENTS]     (defaults 1024 and 100000: ~30 GB of JSON)
set -euo pipefail
RANKS=${1:-1024}
EVENTS=${2:-100000}
cd "$(dirname "$0")/.."
BIN=$PWD/.build/release/reprise
D=bench-data/scale-$RANKS-$EVENTS
PY=.venv/bin/python
mkdir -p "$D"
if ! [ -x "$PY" ] || ! "$PY" -c "import ray" 2>/dev/null; then
  python3 -m venv .venv
  "$PY" -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
fi
[ -f "$D/json/rank-$((RANKS - 1)).json" ] || python3 tools/gen_scale_ranks.py "$D/json" --ranks "$RANKS" --events "$EVENTS"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# Runs "$@" once; prints "<label>: S s, peak RSS M MiB".
timed() {
  local label=$1
  shift
  if ! /usr/bin/time -f "%e %M" -o "$D/time.txt" "$@" > "$D/out.txt" 2> "$D/err.txt"; then
    echo "bench-scale: failed: $* ($(tail -1 "$D/err.txt"))" >&2
    return 1
  fi
  read -r secs kib < "$D/time.txt"
  printf '%-34s %8.2f s   peak RSS %6.0f MiB\n' "$label" "$secs" "$((kib / 1024))"
}

rm -rf "$D/shards"
echo
echo "== shard through Ray ($RANKS tasks on a local instance)"
RAY_DISABLE_USAGE_STATS=1 PYTHONPATH=python timed "reprise_ray shard" \
  "$PY" -m reprise_ray shard --traces "$D/json" --out "$D/shards" --reprise "$BIN"
python3 - "$D" <<'PY'
import glob, os, sys
d = sys.argv[1]
j = sum(os.path.getsize(f) for f in glob.glob(d + "/json/rank-*.json"))
s = sum(os.path.getsize(f) for f in glob.glob(d + "/shards/*.rshard"))
n = len(glob.glob(d + "/shards/*.rshard"))
print("shards: %d files, %.2f GB from %.2f GB of JSON (%.1f%%, 1/%.1f)" % (n, s / 1e9, j / 1e9, 100 * s / j, j / s))
PY

echo
echo "== the reduce, from the shards"
timed "reprise ingest (shards)" "$BIN" ingest "$D/shards" --json
cp "$D/out.txt" "$D/ingest.json"
REPRISE_TIMING=1 "$BIN" ingest "$D/shards" --json 2> "$D/timing.txt" > /dev/null
python3 - "$D" <<'PY'
import re, sys
t = open(sys.argv[1] + "/timing.txt").read()
for phase in ("merge", "link", "validate"):
    m = re.search(r"\] %s: ([0-9.]+) ms" % phase, t)
    if m: print("  %s: %.0f ms" % (phase, float(m.group(1))))
PY
echo "== shard load rate (3 runs)"
python3 tools/shard_load_rate.py "$D/shards" --runs 3 --reprise "$BIN" || echo "bench-scale: the shard load rate was not measured" >&2
timed "reprise replay (shards)" "$BIN" replay "$D/shards" --json
if "$BIN" replay --help | grep -q -- "--fold-symmetric"; then
  cp "$D/out.txt" "$D/replay-full.json"
  timed "reprise replay --fold-symmetric" "$BIN" replay "$D/shards" --json --fold-symmetric
  python3 - "$D/replay-full.json" "$D/out.txt" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
f = b.get("folding", {})
print("  folding: %d ranks in %d class(es), %d folded" % (f.get("ranks", 0), f.get("classes", 0), f.get("foldedRanks", 0)))
ja, jb = a["jobStepNs"]["predicted"], b["jobStepNs"]["predicted"]
ra = {(r["rank"], r["step"]): r for r in a["ranks"]}
rb = {(r["rank"], r["step"]): r for r in b["ranks"]}
step = max(abs(rb[k]["predictedStepNs"] - ra[k]["predictedStepNs"]) / ra[k]["predictedStepNs"] for k in ra)
wait = max(abs(rb[k]["collectiveWaitNs"] - ra[k]["collectiveWaitNs"]) / max(1, ra[k]["collectiveWaitNs"]) for k in ra)
print("  folded vs full: job step %+.4f %%, worst rank step %.3f %%, worst rank collective wait %.1f %% (%d rank-steps)" % (
    100 * (jb - ja) / ja, 100 * step, 100 * wait, len(ra)))
PY
fi
timed "reprise report (shards)" "$BIN" report "$D/shards" -o "$D/report.json"
echo "  report.json: $(wc -c < "$D/report.json") bytes"
