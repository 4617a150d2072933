#!/usr/bin/env python3
"""The HTA 0.5 side of tools/bench_vs_hta.sh: load a trace directory and run the analyses a
`reprise report` covers (temporal breakdown, idle time breakdown, communication/computation
overlap). Prints one line: seconds per phase, total, and this process's peak RSS.

usage: hta_report.py TRACE_DIR
"""
import resource
import sys
import time

t0 = time.perf_counter()
from hta.trace_analysis import TraceAnalysis  # noqa: E402

t1 = time.perf_counter()
analysis = TraceAnalysis(trace_dir=sys.argv[1])
t2 = time.perf_counter()
ranks = sorted(analysis.t.get_all_traces().keys())
analysis.get_temporal_breakdown(visualize=False)
t3 = time.perf_counter()
analysis.get_idle_time_breakdown(ranks=ranks, visualize=False, show_idle_interval_stats=False)
t4 = time.perf_counter()
analysis.get_comm_comp_overlap(visualize=False)
t5 = time.perf_counter()
print("hta: import %.2f s, load %.2f s, temporal %.2f s, idle %.2f s, overlap %.2f s, total %.2f s, peak RSS %d MiB (self)"
      % (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0,
         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
