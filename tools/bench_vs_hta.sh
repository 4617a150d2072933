#!/usr/bin/env bash
# `reprise report` beside Holistic Trace Analysis 0.5 on the same 8 ranks x 40 MB (the serial mix
# of tools/gen_kineto_trace.py), in one run: best and median of REPEATS (default 5) wall times of
# each whole command, peak RSS of each (GNU time: the largest of the process and the workers it
# waited for), and the ratio. HTA runs in .venv-hta (created with HolisticTraceAnalysis==0.5.0 when
# missing); it loads the ranks with its default multiprocessing parser, then runs the temporal
# breakdown, the idle time breakdown and the communication/computation overlap
# (tools/hta_report.py). Needs the release build (`make release`).
# usage: tools/bench_vs_hta.sh [REPEATS] [TRACE_DIR]   (TRACE_DIR: another set of rank files)
set -euo pipefail
REPEATS=${1:-${REPEATS:-5}}
SET=${2:-}
cd "$(dirname "$0")/.."
BIN=.build/release/reprise
D=bench-data
[ -x "$BIN" ] || { echo "bench_vs_hta: build first: make release" >&2; exit 1; }
if [ ! -x .venv-hta/bin/python ] || ! .venv-hta/bin/python -c "import hta" 2>/dev/null; then
  python3 -m venv .venv-hta
  .venv-hta/bin/pip install -q "HolisticTraceAnalysis==0.5.0"
fi
if [ -z "$SET" ]; then
  SET=$D/ranks8
  for r in 0 1 2 3 4 5 6 7; do
    f=$D/ranks8/rank$r.json
    [ -f "$f" ] || { mkdir -p $D/ranks8; python3 tools/gen_kineto_trace.py "$f" --mb 40 --mix serial --rank $r --world 8 >/dev/null; }
  done
fi
mkdir -p $D
echo "machine: $(nproc) cores; input: $SET ($(du -sbL "$SET" | cut -f1) bytes)"
run() {  # label, command...: appends "seconds rss_kib" lines to $D/$label.times
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o $D/time.txt "$@" > $D/$label.out 2> $D/$label.err
  cat $D/time.txt >> $D/$label.times
}
rm -f $D/reprise.times $D/hta.times
for _ in $(seq "$REPEATS"); do  # alternate, so both see the same machine state
  run reprise "$BIN" report "$SET" -o $D/report.json
  run hta .venv-hta/bin/python tools/hta_report.py "$SET"
done
tail -1 $D/hta.out
python3 - "$D" "$(stat -c %s $D/report.json)" <<'PY'
import sys
d, size = sys.argv[1], int(sys.argv[2])
def stats(name):
    rows = [tuple(map(float, l.split())) for l in open(f"{d}/{name}.times") if l.strip()]
    secs = sorted(r[0] for r in rows)
    return secs[0], secs[len(secs) // 2], max(r[1] for r in rows) / 1024
rb, rm, rr = stats("reprise")
hb, hm, hr = stats("hta")
print(f"reprise report: best {rb:.2f} s, median {rm:.2f} s, peak RSS {rr:.0f} MiB, wrote {size} bytes")
print(f"HTA 0.5:        best {hb:.2f} s, median {hm:.2f} s, peak RSS {hr:.0f} MiB")
print(f"ratio (HTA / reprise): {hb / rb:.1f}x best, {hm / rm:.1f}x median")
PY
