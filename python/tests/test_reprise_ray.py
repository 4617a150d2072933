#!/usr/bin/env python3
"""Tests of python/reprise_ray on a local Ray instance (ray.init(num_cpus=2)) with the real
`reprise` binary: shard round trip, the report reduce, a 2x2 what-if sweep and a failing cell.

usage: test_reprise_ray.py [REPRISE_BINARY]   (default: $REPRISE_BIN, else .build/debug/reprise)
Plain asserts; runs under pytest too. Ends with the line `N passed, N failed`; exits 1 on a
failure. Run by `make test` (tools/pycheck.sh).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")

import ray  # noqa: E402

from reprise_ray import binary, cli, cluster, grid, runner  # noqa: E402

BINARY = os.environ.get("REPRISE_BIN") or str(ROOT / ".build" / "debug" / "reprise")
SET = ROOT / "Traces" / "public" / "dlrm-8rank"  # 8 real ranks, gzip, rank from distributedInfo
SMALL = ROOT / "Traces" / "generated" / "ddp-4rank"
SCRATCH = Path(tempfile.mkdtemp(prefix="reprise-ray-test-"))


def start_ray() -> None:
    """A small local instance, started once: 2 CPUs, the custom resource `trace_disk` (as on
    the nodes that mount the traces), no dashboard, a 100 MiB object store."""
    if not ray.is_initialized():
        ray.init(num_cpus=2, resources={"trace_disk": 1}, include_dashboard=False,
                 object_store_memory=100 * 1024 * 1024,
                 log_to_driver=False, configure_logging=False)


def reprise(*args: str) -> dict[str, Any]:
    """`reprise ARGS --json` run here, its JSON output."""
    done = subprocess.run([BINARY, *args, "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"reprise {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}"
    return json.loads(done.stdout)


def events_per_rank(ingest: dict[str, Any]) -> dict[int, int]:
    """{rank: events} from a `reprise ingest --json` document."""
    return {int(f["rank"]): int(f["events"]) for f in ingest["files"]}


OUTPUT: list[str] = []  # what the commands of the running test printed, shown when it fails


def main_rc(*argv: str) -> int:
    """`python -m reprise_ray ARGV` in this process (on the running instance), its exit code;
    what it prints is kept in OUTPUT."""
    start_ray()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        rc = cli.main(["--reprise" if a == "@bin" else a for a in argv])
    OUTPUT.append(f"$ python -m reprise_ray {' '.join(argv)}  -> {rc}\n{buffer.getvalue()}")
    return rc


@functools.cache
def shard_dir() -> Path:
    """DLRM's 8 ranks sharded through Ray (once for every test that needs shards)."""
    out = SCRATCH / "dlrm-shards"
    rc = main_rc("shard", "--traces", str(SET / "*.json.gz"), "--out", str(out), "@bin", BINARY)
    assert rc == 0, f"reprise_ray shard exited {rc}"
    return out


def test_grid_cells() -> None:
    """Grid order (first axis outermost), flags, the baseline cell and schema errors."""
    cells = grid.cells({"hardware": [None, "h100-sxm5-80gb"], "set": [["compute.scale=0.5"], "host.launch=2us"]})
    assert [c.index for c in cells] == [0, 1, 2, 3]
    assert cells[0].flags() == ["--set", "compute.scale=0.5"]
    assert cells[1].flags() == ["--set", "host.launch=2us"]
    assert cells[2].flags() == ["--hardware", "h100-sxm5-80gb", "--set", "compute.scale=0.5"]
    assert grid.cells({})[0].flags() == ["--set", grid.IDENTITY]
    assert grid.cells({"layout": ["dp=4"]})[0].flags() == ["--parallel", "dp=4"]
    for bad in ({"hardwares": [None]}, {"set": [["compute.scale"]]}, {"hardware": []}, {"args": "-v"}, []):
        try:
            grid.cells(bad)
        except grid.GridError:
            continue
        raise AssertionError(f"grid {bad!r} was accepted")


def test_shard_round_trip() -> None:
    """Shards written by Ray tasks ingest to the same events per rank (and links) as the traces."""
    out = shard_dir()
    summary = json.loads((out / "shards.json").read_text())
    assert summary["schema"] == "reprise.shard-summary/v1"
    assert summary["failed"] == []
    assert [s["rank"] for s in summary["shards"]] == list(range(8))
    assert sorted(p.name for p in out.glob("*.rshard")) == [f"rank-{r}.rshard" for r in range(8)]
    traces, shards = reprise("ingest", str(SET)), reprise("ingest", str(out))
    assert events_per_rank(shards) == events_per_rank(traces)
    assert {s["rank"]: s["events"] for s in summary["shards"]} == events_per_rank(traces)
    for key in ("events", "edges", "collectives", "steps"):
        assert shards[key] == traces[key], f"ingest {key}: shards {shards[key]} != traces {traces[key]}"


def test_shard_node_local_gather() -> None:
    """--node-local (a glob per node, tasks pinned) with --gather (shards sent back) on one node,
    on the nodes with --node-resource; a resource that no node has is refused."""
    out = SCRATCH / "ddp-gathered"
    assert main_rc("shard", "--traces", str(SMALL / "rank*.json"), "--out", str(out), "--node-resource", "no_such",
                   "@bin", BINARY) == 64
    rc = main_rc("shard", "--traces", str(SMALL), "--out", str(out), "--node-local", "--gather",
                 "--node-resource", "trace_disk", "@bin", BINARY)
    assert rc == 0
    assert events_per_rank(reprise("ingest", str(out))) == events_per_rank(reprise("ingest", str(SMALL)))


def test_report_reduce() -> None:
    """`reprise_ray report` over the shards equals `reprise report` over the traces, but the inputs."""
    out = SCRATCH / "report.json"
    assert main_rc("report", "--shards", str(shard_dir()), "--output", str(out), "@bin", BINARY) == 0
    reduced = json.loads(out.read_text())
    direct = subprocess.run([BINARY, "report", str(SET)], capture_output=True, text=True, check=True)
    expected = json.loads(direct.stdout)
    assert reduced["schema"] == expected["schema"] == "reprise.report/v2"
    for key in ("stepTimes", "breakdown", "verdict", "criticalPath"):
        assert reduced[key] == expected[key], f"report {key} differs between shards and traces"


def test_whatif_plan_reduce() -> None:
    """`reprise_ray whatif|plan` over the shards: arguments after `--` reach reprise; the
    prediction equals the one from the traces."""
    out = SCRATCH / "whatif.json"
    assert main_rc("whatif", "--shards", str(shard_dir()), "--output", str(out), "@bin", BINARY,
                   "--", "--set", "host.launch=2us", "--json") == 0
    direct = reprise("whatif", str(SET), "--set", "host.launch=2us")
    assert json.loads(out.read_text())["stepNs"] == direct["stepNs"]
    out = SCRATCH / "plan.json"
    assert main_rc("plan", "--shards", str(shard_dir()), "--output", str(out), "@bin", BINARY,
                   "--", "--gpus", "16", "--json") == 0
    assert json.loads(out.read_text())["schema"] == "reprise.plan/v1"
    assert main_rc("plan", "--shards", str(shard_dir()), "@bin", BINARY) == 64  # reprise's own: --gpus missing


def test_sweep_2x2() -> None:
    """hardware x knobs over the shards: csv, json and png, rows in grid order."""
    grid_file = SCRATCH / "grid-2x2.json"
    grid_file.write_text(json.dumps({"hardware": [None, "h100-sxm5-80gb"],
                                     "set": [["compute.scale=0.5"], ["host.launch=2us"]]}))
    out = SCRATCH / "sweep-2x2"
    rc = main_rc("sweep", "--whatif-grid", str(grid_file), "--shards", str(shard_dir()), "--out", str(out),
                 "@bin", BINARY)
    assert rc == 0
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(r["cell"], r["hardware"], r["set"]) for r in rows] == [
        ("0", "", "compute.scale=0.5"), ("1", "", "host.launch=2us"),
        ("2", "h100-sxm5-80gb", "compute.scale=0.5"), ("3", "h100-sxm5-80gb", "host.launch=2us")]
    assert all(r["status"] == "ok" and r["schema"] == "reprise.replay/v1" for r in rows)
    assert all(float(r["speedup"]) > 0 and r["identityErrorPct"] != "" for r in rows)
    direct = reprise("whatif", str(SET), "--hardware", "h100-sxm5-80gb", "--set", "host.launch=2us")
    assert int(rows[3]["predictedStepNs"]) == direct["stepNs"]["predicted"]
    document = json.loads((out / "sweep.json").read_text())
    assert document["schema"] == "reprise_ray.sweep/v1" and len(document["rows"]) == 4
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_failing_cell() -> None:
    """A cell that fails keeps its error in its row; the others run; the exit code is 1."""
    grid_file = SCRATCH / "grid-fail.json"
    grid_file.write_text(json.dumps({"hardware": ["no-such-gpu", None], "set": [["host.launch=2us"]]}))
    out = SCRATCH / "sweep-fail"
    rc = main_rc("sweep", "--whatif-grid", str(grid_file), "--shards", str(SMALL), "--out", str(out), "@bin", BINARY)
    assert rc == 1
    rows = json.loads((out / "sweep.json").read_text())["rows"]
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert rows[0]["exitCode"] == 64 and "unknown hardware 'no-such-gpu'" in rows[0]["error"]
    assert rows[0]["predictedStepNs"] is None and rows[1]["predictedStepNs"] > 0
    assert (out / "sweep.png").is_file()


def test_bad_arguments() -> None:
    """No binary, or a grid outside the schema: exit 64 before any task runs."""
    assert main_rc("report", "--shards", str(SMALL), "@bin", "/no/such/reprise") == 64
    bad = SCRATCH / "grid-bad.json"
    bad.write_text(json.dumps({"gpu": ["h100-sxm5-80gb"]}))
    assert main_rc("sweep", "--whatif-grid", str(bad), "--shards", str(SMALL), "--out", str(SCRATCH / "x"),
                   "@bin", BINARY) == 64


def test_ship_binary() -> None:
    """--ship-binary: the binary travels in the job's runtime_env; the tasks run the shipped copy.

    Restarts Ray: a runtime_env with local files can only be given when the job starts.
    """
    ray.shutdown()
    try:
        tool, runtime_env = binary.binary_for(BINARY, ship=True)
        cluster.connect(None, runtime_env)
        done = ray.get(ray.remote(runner.run_reprise).remote(tool, ["--version"]))
        assert done["returncode"] == 0, done["stderr"]
        assert "/reprise_bin/reprise" in done["argv"][0] and done["argv"][0] != BINARY
        try:
            cluster.connect(None, runtime_env)
        except cluster.AlreadyConnected:
            pass
        else:
            raise AssertionError("a second runtime_env was accepted on a running job")
    finally:
        ray.shutdown()


TESTS: list[Callable[[], None]] = [test_grid_cells, test_shard_round_trip, test_shard_node_local_gather,
                                   test_report_reduce, test_whatif_plan_reduce, test_sweep_2x2, test_sweep_failing_cell, test_bad_arguments,
                                   test_ship_binary]


def run_all() -> int:
    """Runs every test, prints one line each and `N passed, N failed`; returns the exit code."""
    global BINARY
    if len(sys.argv) > 1:
        BINARY = os.path.abspath(sys.argv[1])
    start = time.monotonic()
    failed = 0
    for test in TESTS:
        began = time.monotonic()
        OUTPUT.clear()
        try:
            test()
            print(f"ok    {test.__name__} ({time.monotonic() - began:.1f} s)")
        except Exception:  # noqa: BLE001  (a runner: every failure is reported, the rest still run)
            failed += 1
            print(f"FAIL  {test.__name__} ({time.monotonic() - began:.1f} s)")
            traceback.print_exc(file=sys.stdout)
            print("".join(OUTPUT), end="")
    if ray.is_initialized():
        ray.shutdown()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    print(f"reprise_ray tests: {time.monotonic() - start:.1f} s with {BINARY}")
    print(f"{len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_all())
