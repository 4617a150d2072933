#!/usr/bin/env bash
# A/B benchmark of two release binaries of reprise on the same machine, alternating runs:
# ingest of the generated 200 MB trace (plain and gzip), `report` on two bundled real sets,
# and the replay engine. Prints best and median wall time of 5 runs and the peak RSS of each.
#   tools/ab_bench.sh OLD_BINARY NEW_BINARY
# Build the old one from a worktree: git worktree add /tmp/old REV && (cd /tmp/old && swift build -c release)
set -euo pipefail
OLD=${1:?old binary}; NEW=${2:?new binary}
cd "$(dirname "$0")/.."
F=bench-data/bench-200MB.json
mkdir -p bench-data
[ -f "$F" ] && [ -f "$F.gz" ] || python3 tools/gen_kineto_trace.py "$F" --mb 200 --gzip
T=$(mktemp)
run() { /usr/bin/time -f "%e %M" -o "$T" "$@" > /dev/null 2>&1; cat "$T"; }
for job in "ingest $F --json" "ingest $F.gz --json" "ingest Traces/public/dlrm-8rank --json" \
  "report Traces/public/dlrm-8rank -o /dev/null" "report Traces/public/mi300-qwen1.5-0.5b -o /dev/null"; do
  o=(); n=()
  # shellcheck disable=SC2086
  for _ in 1 2 3 4 5; do o+=("$(run "$OLD" $job)"); n+=("$(run "$NEW" $job)"); done
  python3 - "$job" "${o[@]}" "--" "${n[@]}" <<'PY'
import sys
job = sys.argv[1]; a = sys.argv[2:]; k = a.index("--")
def stats(rows):
    rows = [tuple(map(float, r.split())) for r in rows]
    t = sorted(r[0] for r in rows)
    return t[0], t[len(t) // 2], max(r[1] for r in rows) / 1024
ob, om, orss = stats(a[:k]); nb, nm, nrss = stats(a[k + 1:])
print(f"{job}: old best {ob:.2f} s, median {om:.2f} s, {orss:.0f} MiB | new best {nb:.2f} s, "
      f"median {nm:.2f} s, {nrss:.0f} MiB | new/old best {nb / ob:.2f}")
PY
done
for b in "$OLD" "$NEW"; do
  echo "$b"
  "$b" bench-replay --ranks 8 --kernels 500000 --repeats 5 | tail -2
done
rm -f "$T"
