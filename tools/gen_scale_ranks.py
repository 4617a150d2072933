#!/usr/bin/env python3
"""Many generated ranks for the scale-out benchmark (`make bench-scale`, docs/performance.md).

Writes OUTDIR/rank-<r>.json for r in 0..RANKS-1, each about EVENTS events of the `steps` mix of
tools/gen_kineto_trace.py (profiler steps, ops, launches, kernels, flows, memory events and an
allreduce every 97 ops across the whole world). VARIANTS distinct seeds are generated once each;
rank r is variant r % VARIANTS with its own `distributedInfo.rank`. So the ranks are data-parallel
replicas: the same event sequence, with durations that differ between variants (the jitter that
symmetric-rank folding keeps per rank).

usage: gen_scale_ranks.py OUTDIR [--ranks 1024] [--events 100000] [--variants 8]
"""
import argparse, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def count_events(path):
    with open(path, "rb") as f:
        return f.read().count(b'{"ph": ')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--ranks", type=int, default=1024)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--variants", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    variants_dir = os.path.join(a.out, ".variants")
    os.makedirs(variants_dir, exist_ok=True)
    # Calibrate the size per event once, on a small file.
    probe = os.path.join(variants_dir, "probe.json")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_kineto_trace.py"), probe, "--mb", "2"],
                   check=True, stdout=subprocess.DEVNULL)
    bytes_per_event = os.path.getsize(probe) / count_events(probe)
    mb = a.events * bytes_per_event / 1e6
    bodies = []
    for v in range(a.variants):
        path = os.path.join(variants_dir, "variant-%d.json" % v)
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(HERE, "gen_kineto_trace.py"), path, "--mb", "%.3f" % mb,
                            "--seed", str(1 + v), "--rank", "0", "--world", str(a.ranks)],
                           check=True, stdout=subprocess.DEVNULL)
        with open(path, "rb") as f:
            bodies.append(f.read())
    pattern = re.compile(rb'"rank": 0, "world_size": \d+')
    for r in range(a.ranks):
        body = bodies[r % a.variants]
        head, n = pattern.subn(b'"rank": %d, "world_size": %d' % (r, a.ranks), body[:4096], count=1)
        if n != 1:
            sys.exit("gen_scale_ranks: no distributedInfo in %s" % path)
        with open(os.path.join(a.out, "rank-%d.json" % r), "wb") as f:
            f.write(head)
            f.write(memoryview(body)[4096:])
    total = sum(os.path.getsize(os.path.join(a.out, "rank-%d.json" % r)) for r in range(a.ranks))
    print("wrote %d ranks to %s: %.2f GB, ~%d events each (%d variants)" % (
        a.ranks, a.out, total / 1e9, count_events(os.path.join(a.out, "rank-0.json")), a.variants))


if __name__ == "__main__":
    main()
