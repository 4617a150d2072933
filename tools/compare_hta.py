#!/usr/bin/env python3
"""Set Reprise's temporal breakdown beside Holistic Trace Analysis' on the same traces.

Usage: tools/compare_hta.py TRACE_DIR [--reprise PATH_TO_REPRISE] [--tolerance-pct 1.0] [--idle | --kernels]

Needs `pip install HolisticTraceAnalysis` (any recent version). Prints one row per rank with
HTA's and Reprise's span, idle, compute and non-compute time (µs) and the largest difference
as a percentage of the rank's span; exits 1 when a difference exceeds --tolerance-pct.

With --idle, sets HTA's idle-time breakdown (`get_idle_time_breakdown`: per stream, the gaps
between consecutive kernels as host_wait / kernel_wait / other) beside the interior per-stream
bubbles of `reprise report --detail` (leading gap before the stream's first kernel and trailing gap left
out, as HTA does) and their causes; exits 1 when a stream's total idle differs by more than
--tolerance-pct of HTA's.
"""
import collections
import argparse
import json
import subprocess
import sys


def hta_breakdown(trace_dir):
    from hta.trace_analysis import TraceAnalysis

    analyzer = TraceAnalysis(trace_dir=trace_dir)
    df = analyzer.get_temporal_breakdown(visualize=False)
    out = {}
    for _, row in df.iterrows():
        out[int(row["rank"])] = {
            "span": float(row["kernel_time(us)"]),
            "idle": float(row["idle_time(us)"]),
            "compute": float(row["compute_time(us)"]),
            "nonCompute": float(row["non_compute_time(us)"]),
        }
    return out


def reprise_breakdown(reprise, trace_dir):
    doc = json.loads(subprocess.run([reprise, "breakdown", "--json", "--window", "complete-steps", trace_dir], check=True,
                                    capture_output=True, text=True).stdout)
    return {r["rank"]: {"span": r["spanNs"] / 1e3, "idle": r["idleNs"] / 1e3,
                        "compute": r["computeNs"] / 1e3, "nonCompute": r["nonComputeNs"] / 1e3}
            for r in doc["ranks"]}


def idle_table(trace_dir, reprise, tolerance_pct):
    from hta.trace_analysis import TraceAnalysis

    analyzer = TraceAnalysis(trace_dir=trace_dir)
    ranks = sorted(analyzer.t.get_all_traces().keys())
    result = analyzer.get_idle_time_breakdown(ranks=ranks, visualize=False, show_idle_interval_stats=False)
    df = result[0] if isinstance(result, tuple) else result
    hta = collections.defaultdict(dict)
    for _, row in df.iterrows():
        hta[(int(row["rank"]), int(row["stream"]))][row["idle_category"]] = float(row["idle_time"])
    doc = json.loads(subprocess.run([reprise, "report", "--detail", trace_dir], capture_output=True, text=True,
                                    check=True).stdout)
    first_start = {b["rank"]: b["spanStartNs"] for b in doc["breakdown"]["ranks"]}
    ours = collections.defaultdict(lambda: collections.defaultdict(float))
    for b in doc["bubbles"]["intervals"]:
        if b["lane"] < 0 or b["nextEvent"] is None or b["startNs"] == first_start[b["rank"]]:
            continue  # rank-level, trailing, or leading gap
        ours[(b["rank"], int(b["laneName"].split()[-1]))][b["cause"]] += b["durationNs"] / 1e3
    print("| rank | stream | idle HTA µs | idle Reprise µs | host_wait HTA | hostLaunch+sync Reprise | crossStream+collective+recv Reprise | kernel_wait+other HTA | other Reprise |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for k in sorted(set(hta) | set(ours)):
        h, o = hta.get(k, {}), ours.get(k, {})
        th, to = sum(h.values()), sum(o.values())
        worst = max(worst, abs(th - to) / th * 100 if th else (100.0 if to else 0.0))
        print(f"| {k[0]} | {k[1]} | {th:.0f} | {to:.0f} | {h.get('host_wait', 0):.0f} | {o.get('hostLaunch', 0) + o.get('sync', 0):.0f} | "
              f"{o.get('crossStream', 0) + o.get('collective', 0) + o.get('recv', 0):.0f} | {h.get('kernel_wait', 0) + h.get('other', 0):.0f} | {o.get('other', 0):.0f} |")
    print(f"worst stream idle difference: {worst:.3f}% of HTA's (tolerance {tolerance_pct}%)")
    sys.exit(0 if worst <= tolerance_pct else 1)


def hta_kernels(trace_dir):
    from hta.trace_analysis import TraceAnalysis

    analyzer = TraceAnalysis(trace_dir=trace_dir)
    _, df = analyzer.get_gpu_kernel_breakdown(visualize=False, duration_ratio=1.0, num_kernels=10**9,
                                              include_memory_kernels=True)
    return {(row["name"], int(row["rank"])): {"sum": float(row["sum (us)"]), "mean": float(row["mean (us)"]),
                                              "max": float(row["max (us)"])} for _, row in df.iterrows()}


def reprise_kernels(reprise, trace_dir, ranks):
    out = {}
    for rank in ranks:
        doc = json.loads(subprocess.run([reprise, "top", "--kind", "kernel", "--rank", str(rank), "-n", "1000000",
                                         "--json", trace_dir], check=True, capture_output=True, text=True).stdout)
        for r in doc["rows"]:
            out[(r["name"], rank)] = {"sum": r["totalNs"] / 1e3, "mean": r["meanNs"] / 1e3, "max": r["maxNs"] / 1e3,
                                      "count": r["count"]}
    return out


def kernel_table(trace_dir, reprise, tolerance_pct):
    hta = hta_kernels(trace_dir)
    ours = reprise_kernels(reprise, trace_dir, sorted({r for _, r in hta}))
    names = collections.defaultdict(lambda: [0.0, 0.0, 0, 0])  # HTA sum, Reprise sum, ranks, count
    worst = 0.0
    total = sum(v["sum"] for v in hta.values())
    for key in sorted(set(hta) | set(ours)):
        h, o = hta.get(key), ours.get(key)
        n = names[key[0]]
        n[0] += h["sum"] if h else 0.0
        n[1] += o["sum"] if o else 0.0
        n[2] += 1
        n[3] += o["count"] if o else 0
        if h is None or o is None:
            worst = float("inf")
            print(f"{key[0][:60]} rank {key[1]}: missing in {'HTA' if h is None else 'Reprise'}")
            continue
        worst = max(worst, max(abs(h[k] - o[k]) for k in ("sum", "mean", "max")) / total * 100 if total else 0.0)
    print("| kernel | count | total HTA µs | total Reprise µs |")
    print("|---|---|---|---|")
    for name, (h, o, _, c) in sorted(names.items(), key=lambda kv: -kv[1][0]):
        print(f"| `{name[:70]}` | {c} | {h:.1f} | {o:.1f} |")
    print(f"{len(names)} kernel names, {len(hta)} (name, rank) rows; HTA total {total:.1f} µs, "
          f"Reprise total {sum(v['sum'] for v in ours.values()):.1f} µs")
    print(f"worst (name, rank) difference in sum/mean/max: {worst:.4f}% of HTA's total (tolerance {tolerance_pct}%)")
    sys.exit(0 if worst <= tolerance_pct else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace_dir")
    p.add_argument("--reprise", default=".build/release/reprise")
    p.add_argument("--tolerance-pct", type=float, default=1.0)
    p.add_argument("--idle", action="store_true", help="compare HTA's idle-time breakdown with Reprise's bubbles")
    p.add_argument("--kernels", action="store_true", help="compare HTA's kernel breakdown with reprise top")
    a = p.parse_args()
    if a.kernels:
        kernel_table(a.trace_dir, a.reprise, a.tolerance_pct)
    if a.idle:
        idle_table(a.trace_dir, a.reprise, a.tolerance_pct)
    hta = hta_breakdown(a.trace_dir)
    ours = reprise_breakdown(a.reprise, a.trace_dir)
    keys = ["span", "idle", "compute", "nonCompute"]
    print("rank | " + " | ".join(f"{k} HTA µs | {k} Reprise µs" for k in keys) + " | max diff % of span")
    print("|".join(["---"] * (2 + 2 * len(keys))))
    worst = 0.0
    for rank in sorted(set(hta) | set(ours)):
        h, o = hta.get(rank), ours.get(rank)
        if h is None or o is None:
            print(f"{rank} | missing in {'HTA' if h is None else 'Reprise'}")
            worst = float("inf")
            continue
        diff = max(abs(h[k] - o[k]) for k in keys) / h["span"] * 100 if h["span"] else 0.0
        worst = max(worst, diff)
        print(f"{rank} | " + " | ".join(f"{h[k]:.1f} | {o[k]:.1f}" for k in keys) + f" | {diff:.3f}")
    print(f"worst difference: {worst:.3f}% of span (tolerance {a.tolerance_pct}%)")
    sys.exit(0 if worst <= a.tolerance_pct else 1)


if __name__ == "__main__":
    main()
