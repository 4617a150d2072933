#!/usr/bin/env python3
"""Predict every layout of the captured GPT set from every other one (`reprise whatif --parallel`)
and print the tables of docs/models/parallel.md, "Validation".

usage: tools/validate_parallel.py [SET] [--reprise PATH]

SET defaults to Traces/kineto-cpu/gpt-parallel (tools/capture_parallel.py writes it: one folder
per layout, measured.json, gpt-tiny.json, cpu-gloo-loopback.json, cpu-calibrated.json). Two
tables: the prediction against the target's step measured outside the profiler (the prediction
scaled by the source's outside/in-profile ratio, since a prediction from a trace carries the
profiler's overhead), and against the target's in-profile step (the identity replay of its own
trace). Prints markdown; exits 1 when a prediction fails.
"""
import argparse
import json
import os
import subprocess
import sys

TARGETS = {
    "single": ["--parallel", "dp=1,tp=1,pp=1"],
    "dp2": ["--parallel", "dp=2"],
    "tp2": ["--parallel", "tp=2"],
    "pp2-gpipe": ["--parallel", "pp=2", "--schedule", "gpipe", "--microbatches", "4"],
    "pp2-1f1b": ["--parallel", "pp=2", "--schedule", "1f1b", "--microbatches", "4"],
}


def whatif(reprise, set_dir, source, target):
    cmd = [reprise, "whatif", os.path.join(set_dir, source)] + TARGETS[target] + [
        "--model", os.path.join(set_dir, "gpt-tiny.json"),
        "--hardware", os.path.join(set_dir, "cpu-calibrated.json"),
        "--cluster", os.path.join(set_dir, "cpu-gloo-loopback.json"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("%s: %s" % (" ".join(cmd), out.stderr.strip()))
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set", nargs="?", default="Traces/kineto-cpu/gpt-parallel")
    ap.add_argument("--reprise", default=".build/debug/reprise")
    args = ap.parse_args()
    with open(os.path.join(args.set, "measured.json")) as f:
        measured = {l["name"]: l["overall"]["medianOfRepeatMediansMs"] for l in json.load(f)["layouts"]}
    names = list(TARGETS)
    docs = {(s, t): whatif(args.reprise, args.set, s, t) for s in names for t in names}
    in_profile = {t: docs[(t, t)]["stepNs"]["baseline"] / 1e6 for t in names}
    worst = 0.0
    for title, reference, scale in [
        ("predicted (scaled to outside the profiler) vs measured outside the profiler, ms and error",
         measured, lambda s: measured[s] / in_profile[s]),
        ("predicted vs the target's own trace (in profile), ms and error", in_profile, lambda s: 1.0),
    ]:
        print("\n" + title + "\n")
        print("| from \\ to | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for s in names:
            cells = []
            for t in names:
                p = docs[(s, t)]["stepNs"]["predicted"] / 1e6 * scale(s)
                err = (p - reference[t]) / reference[t] * 100
                if s != t:
                    worst = max(worst, abs(err))
                cells.append("%.1f (%+.1f %%)" % (p, err))
            print("| %s | %s |" % (s, " | ".join(cells)))
        print("| measured | " + " | ".join("%.1f" % reference[t] for t in names) + " |")
    print("\nlargest error off the diagonal: %.1f %%" % worst)


if __name__ == "__main__":
    main()
