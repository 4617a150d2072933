#!/usr/bin/env python3
"""Validate `reprise serve` what-ifs against the CPU serving captures (docs/models/serving.md,
"Validation").

From one captured trace (default b1-p512) predict every other captured (batch, prompt) with
`--set serve.batch=B --set serve.context=P` and compare with the measurements beside the
traces (Traces/kineto-cpu/serving-llama/measured.json, written by tools/capture_serving.py):

  - against the target's own trace: its mean prefill (TTFT) and decode (TPOT) iterations as
    `reprise serve` reads them with no what-if (the model's error alone, both in the profiler);
  - against the unprofiled medians: the prediction scaled by the source's unprofiled /
    in-profile ratio for each phase (what a user would see without the profiler).

usage: validate_serving.py [--dir Traces/kineto-cpu/serving-llama] [--source b1-p512]
                           [--hardware Traces/kineto-cpu/gpt-parallel/cpu-calibrated.json]
                           [--reprise .build/debug/reprise] [--markdown]
"""
import argparse
import json
import os
import subprocess
import sys


def serve(reprise, trace, model, hardware, knobs):
    cmd = [reprise, "serve", trace, "--model", model, "--hardware", hardware, "--json"]
    for k in knobs:
        cmd += ["--set", k]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"validate_serving: {' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(root, "Traces/kineto-cpu/serving-llama"))
    ap.add_argument("--source", default="b1-p512")
    ap.add_argument("--hardware", default=os.path.join(root, "Traces/kineto-cpu/gpt-parallel/cpu-calibrated.json"))
    ap.add_argument("--reprise", default=os.path.join(root, ".build/debug/reprise"))
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    a = ap.parse_args()
    measured = json.load(open(os.path.join(a.dir, "measured.json")))["runs"]
    model = os.path.join(a.dir, "llama-tiny.json")
    trace = lambda name: os.path.join(a.dir, name, name + ".pt.trace.json.gz")
    src = serve(a.reprise, trace(a.source), model, a.hardware, [])
    m = measured[a.source]
    scale_ttft = m["ttftMsMedian"] / (src["measured"]["ttftNs"] / 1e6)
    scale_tpot = m["tpotMsMedian"] / (src["measured"]["tpotNs"] / 1e6)
    rows = []
    for name, run in sorted(measured.items(), key=lambda kv: (kv[1]["batch"], kv[1]["prompt"])):
        if name == a.source:
            continue
        knobs = [f"serve.batch={run['batch']}", f"serve.context={run['prompt']}"]
        pred = serve(a.reprise, trace(a.source), model, a.hardware, knobs)["predicted"]
        own = serve(a.reprise, trace(name), model, a.hardware, [])["measured"]
        p_ttft, p_tpot = pred["ttftNs"] / 1e6, pred["tpotNs"] / 1e6
        o_ttft, o_tpot = own["ttftNs"] / 1e6, own["tpotNs"] / 1e6
        u_ttft, u_tpot = p_ttft * scale_ttft, p_tpot * scale_tpot
        err = lambda p, r: 100 * (p - r) / r
        rows.append((name, p_ttft, o_ttft, err(p_ttft, o_ttft), p_tpot, o_tpot, err(p_tpot, o_tpot),
                     u_ttft, run["ttftMsMedian"], err(u_ttft, run["ttftMsMedian"]),
                     u_tpot, run["tpotMsMedian"], err(u_tpot, run["tpotMsMedian"])))
    head = ("target", "TTFT pred", "TTFT trace", "err %", "TPOT pred", "TPOT trace", "err %",
            "TTFT pred·s", "TTFT unprof", "err %", "TPOT pred·s", "TPOT unprof", "err %")
    print(f"source {a.source}: TTFT {src['measured']['ttftNs'] / 1e6:.3f} ms, TPOT {src['measured']['tpotNs'] / 1e6:.3f} ms "
          f"in its trace; unprofiled/in-trace scale TTFT {scale_ttft:.4f}, TPOT {scale_tpot:.4f}")
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + r[0] + " | " + " | ".join(f"{v:+.1f}" if i % 3 == 2 else f"{v:.2f}" for i, v in enumerate(r[1:])) + " |")
    else:
        print("  ".join(f"{h:>11}" for h in head))
        for r in rows:
            print(f"{r[0]:>11}  " + "  ".join(f"{v:+11.1f}" if i % 3 == 2 else f"{v:11.2f}" for i, v in enumerate(r[1:])))
    worst = max(abs(v) for r in rows for v in (r[3], r[6], r[9], r[12]))
    print(f"largest |error|: {worst:.1f} %")


if __name__ == "__main__":
    main()
