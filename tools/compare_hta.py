#!/usr/bin/env python3
"""Set Reprise's temporal breakdown beside Holistic Trace Analysis' on the same traces.

Usage: tools/compare_hta.py TRACE_DIR [--reprise PATH_TO_REPRISE] [--tolerance-pct 1.0]

Needs `pip install HolisticTraceAnalysis` (any recent version). Prints one row per rank with
HTA's and Reprise's span, idle, compute and non-compute time (µs) and the largest difference
as a percentage of the rank's span; exits 1 when a difference exceeds --tolerance-pct.
"""
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace_dir")
    p.add_argument("--reprise", default=".build/release/reprise")
    p.add_argument("--tolerance-pct", type=float, default=1.0)
    a = p.parse_args()
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
