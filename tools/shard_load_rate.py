#!/usr/bin/env python3
"""Shard load rate (docs/performance.md, "Scale-out"): GB of shard loaded per CPU-second.

usage: python3 tools/shard_load_rate.py SHARD_DIR [--runs N] [--reprise BIN]

Each run is `REPRISE_TIMING=1 reprise ingest SHARD_DIR --json`, whose timing lines give
  - tables: the CPU time of each shard's own read (metadata, string table, records), summed;
  - columns: the process CPU time of the column decode straight into the merged graph, with its
    user and system split (getrusage).
Loading a run of shards fills the merged graph's columns, which are fresh memory. On a VM the
kernel's cost of handing out fresh pages varies from run to run by several times (on the
Firecracker VM of docs/performance.md, free pages go back to the host and fault in again), so
right after each run a probe measures that cost alone: the CPU time to touch every 4 KiB page of
an anonymous mapping as large as the graph (`graph.bytes` of the ingest), advised for huge pages
as the loader's columns are, less the time of the same loop over pages already touched. Each waits
SETTLE_S seconds first (below).

Two rates are printed per run and as medians, beside the probe:
  process: shard bytes / (tables + columns process CPU), everything the load costs on this machine;
  user:    shard bytes / (tables + columns user CPU), the loader's own work without the kernel's
           providing fresh memory (the tables' thread CPU still holds the system calls that map each
           shard; Linux splits user and system time from timer ticks, so the split is approximate).
           Builds from before the split print nan for it.
The probe is not subtracted from the process CPU: it runs on one thread with its own page-size mix, so
it shows the scale of the kernel's share, not its exact amount.
"""
import argparse
import json
import mmap
import os
import re
import statistics
import subprocess
import sys
import time


def fresh_memory_ms(n):
    """CPU ms to fault in n bytes of fresh anonymous memory (advised for huge pages)."""
    m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        m.madvise(mmap.MADV_HUGEPAGE)
    pages = range(0, n, 4096)
    t = time.process_time()
    for off in pages:
        m[off] = 1
    first = time.process_time() - t
    t = time.process_time()
    for off in pages:
        m[off] = 2
    loop = time.process_time() - t
    m.close()
    return max(0.0, first - loop) * 1e3


# Linux hands freed pages back to a VM's host (free page reporting) about 2 s after they are freed; until
# then they are cheap to take again. The loader and the probe each wait this long first, so that neither
# gets the pages the other has just freed.
SETTLE_S = 3


def one_run(binary, shards, shard_bytes):
    env = dict(os.environ, REPRISE_TIMING="1")
    time.sleep(SETTLE_S)
    p = subprocess.run([binary, "ingest", shards, "--json"], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["exit status %d" % p.returncode])[-1]
        sys.exit("shard_load_rate: reprise ingest failed: " + last)
    t = p.stderr
    tables = sum(float(m.group(1)) for m in re.finditer(r"read shard .*?\(own, cpu ([0-9.]+) ms\)", t))
    m = re.search(
        r"decode shard columns: ([0-9.]+) ms \(process cpu ([0-9.]+) ms(?:; user ([0-9.]+) ms, system ([0-9.]+) ms)?", t)
    if not m:
        sys.exit("shard_load_rate: no 'decode shard columns' timing line in the output of " + binary)
    wall, cpu = float(m.group(1)), float(m.group(2))
    # Builds before the user/system split have no user rate.
    user, system = (float(m.group(3)), float(m.group(4))) if m.group(3) else (float("nan"), float("nan"))
    graph_bytes = json.loads(p.stdout)["graph"]["bytes"]
    if graph_bytes <= 0 or shard_bytes <= 0:
        sys.exit("shard_load_rate: the shards hold no events")
    time.sleep(SETTLE_S)
    probe = fresh_memory_ms(graph_bytes)
    gb = shard_bytes / 1e9
    return {
        "tables": tables, "wall": wall, "cpu": cpu, "user": user, "system": system, "probe": probe,
        "graph": graph_bytes,
        "process": gb / ((tables + cpu) / 1e3),
        "userRate": gb / ((tables + user) / 1e3),
        "probePerMB": probe / (graph_bytes / 1e6),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shards")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--reprise", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "reprise"))
    a = ap.parse_args()
    files = [os.path.join(a.shards, f) for f in os.listdir(a.shards) if f.endswith(".rshard")]
    if not files:
        sys.exit("shard_load_rate: no .rshard files in " + a.shards)
    shard_bytes = sum(os.path.getsize(f) for f in files)
    print("%d shards, %.3f GB" % (len(files), shard_bytes / 1e9))
    runs = []
    for i in range(a.runs):
        r = one_run(a.reprise, a.shards, shard_bytes)
        runs.append(r)
        print("run %d: tables %.0f ms CPU; columns %.0f ms CPU (user %.0f, system %.0f; wall %.0f);"
              " fresh-memory probe %.0f ms for %.0f MB (%.2f ms/MB); GB/s of shard per core: process %.2f, user %.2f" % (
                  i + 1, r["tables"], r["cpu"], r["user"], r["system"], r["wall"], r["probe"], r["graph"] / 1e6,
                  r["probePerMB"], r["process"], r["userRate"]))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("median of %d: tables %.0f ms, columns %.0f ms CPU (user %.0f, system %.0f), probe %.2f ms/MB;"
          " GB/s of shard per core: process %.2f, user %.2f" % (
              len(runs), med["tables"], med["cpu"], med["user"], med["system"], med["probePerMB"], med["process"],
              med["userRate"]))


if __name__ == "__main__":
    main()
