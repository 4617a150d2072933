#!/usr/bin/env python3
"""Tests of python/reprise_ray on a local Ray instance (ray.init(num_cpus=2)) with the real
`reprise` binary: shard round trip, the grouping of a rank's files into one task (an execution
trace with its Kineto trace), rank conflicts, a lost task, --gather, the summary against `reprise
shard --json`, the reduces, what-if sweeps (a failing cell, determinism) and --ship-binary.

usage: test_reprise_ray.py [REPRISE_BINARY]   (default: $REPRISE_BIN, else .build/debug/reprise)
Plain asserts; runs under pytest too. Ends with the line `N passed, N failed`; exits 1 on a
failure. Run by `make test` (tools/pycheck.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import gzip
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

from reprise_ray import binary, cli, cluster, grid, runner, traces  # noqa: E402

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


# A minimal PyTorch host execution trace: what PyTorchETImporter sniffs and ExecutionTrace reads.
MINIMAL_ET = {"schema": "1.0.1", "pid": 1, "nodes": [
    {"id": 1, "name": "[pytorch|profiler|execution_trace|thread]", "ctrl_deps": 0},
    {"id": 2, "name": "aten::mm", "ctrl_deps": 1, "attrs": [{"name": "rf_id", "type": "uint64", "value": 1},
                                                            {"name": "tid", "type": "uint64", "value": 1}]}]}


def logging_binary(name: str, kill_when: str | None = None) -> tuple[str, Path]:
    """A wrapper around the binary that appends each call's arguments (one line) to a log and
    runs the binary; with `kill_when`, a call whose arguments contain it kills its parent (the
    Ray worker) instead: a lost task. Returns the wrapper and its log."""
    log = SCRATCH / f"{name}.log"
    wrapper = SCRATCH / f"{name}.sh"
    kill = f'case "$*" in *{kill_when}*) kill -9 $PPID; exit 137;; esac\n' if kill_when else ""
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n{kill}exec "{BINARY}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper), log


def logged_calls(log: Path) -> list[list[str]]:
    """The calls a logging_binary saw, each its arguments (paths have no spaces here)."""
    return [line.split(" ") for line in log.read_text().splitlines()] if log.exists() else []


def summary_of(out: Path) -> dict[str, Any]:
    """DIR/shards.json."""
    return json.loads((out / "shards.json").read_text())


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
    """Grid order (first axis outermost), flags, the baseline cell, a lost cell's row and schema
    errors."""
    cells = grid.cells({"hardware": [None, "h100-sxm5-80gb"], "set": [["compute.scale=0.5"], "host.launch=2us"]})
    assert [c.index for c in cells] == [0, 1, 2, 3]
    assert cells[0].flags() == ["--set", "compute.scale=0.5"]
    assert cells[1].flags() == ["--set", "host.launch=2us"]
    assert cells[2].flags() == ["--hardware", "h100-sxm5-80gb", "--set", "compute.scale=0.5"]
    assert grid.cells({})[0].flags() == ["--set", grid.IDENTITY]
    assert grid.cells({"layout": ["dp=4"]})[0].flags() == ["--parallel", "dp=4"]
    lost = grid.row(cells[1], None, None, "Ray task failed: WorkerCrashedError")  # a cell whose task Ray lost
    assert lost["status"] == "error" and lost["exitCode"] is None and lost["set"] == "host.launch=2us"
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
    on the nodes with --node-resource; a resource that no node has is refused. No task names
    DIR to reprise: every shard reaches DIR through the driver."""
    out = SCRATCH / "ddp-gathered"
    assert main_rc("shard", "--traces", str(SMALL / "rank*.json"), "--out", str(out), "--node-resource", "no_such",
                   "@bin", BINARY) == 64
    wrapper, log = logging_binary("gather")
    rc = main_rc("shard", "--traces", str(SMALL), "--out", str(out), "--node-local", "--gather",
                 "--node-resource", "trace_disk", "@bin", wrapper)
    assert rc == 0
    calls = [c for c in logged_calls(log) if c[0] == "shard"]
    assert len(calls) == 4, calls
    targets = [c[c.index("-o") + 1] for c in calls]
    assert all(not t.startswith(str(out)) and not t.startswith(os.path.realpath(out)) for t in targets), targets
    summary = summary_of(out)
    assert [Path(s["path"]) for s in summary["shards"]] == [out / f"rank-{r}.rshard" for r in range(4)]
    assert sorted(p.name for p in out.iterdir()) == ["rank-0.rshard", "rank-1.rshard", "rank-2.rshard",
                                                     "rank-3.rshard", "shards.json"]
    assert events_per_rank(reprise("ingest", str(out))) == events_per_rank(reprise("ingest", str(SMALL)))


def test_grouping() -> None:
    """The rank in a file name (the binary's rule), the execution-trace sniff, and the tasks: an
    ET goes with the rank file of its rank; one whose rank no file names is its own task; one
    with no rank among several is refused, but pairs with an only Kineto trace."""
    names = {"worker3_step_12.1694128201545.pt.trace.json.gz": 3, "rank-12_trace.json": 12, "rank_5.json": 5,
             "dlrm_eg_0.json": 0, "all_reduce.3.et": 3, "run.tar.gz:dir/rank7.json": 7, "trace.json": None,
             "kineto_trace.json": None, "step-2.json.gz": 2, "a_1234567.json": None}
    assert {n: traces.rank_in_file_name(n) for n in names} == names
    et = json.dumps(MINIMAL_ET).encode()
    assert traces.is_execution_trace(et) and traces.is_execution_trace(b"\xef\xbb\xbf \n" + et)
    kineto = (SMALL / "rank0.pt.trace.json").read_bytes()[:traces.SNIFF_BYTES]
    assert not traces.is_execution_trace(kineto)
    assert not traces.is_execution_trace(b'{"schema": 1, "traceEvents": [], "nodes": []}')
    assert not traces.is_execution_trace(b'["schema", "nodes"]')
    gz = SCRATCH / "et_4.json.gz"
    gz.write_bytes(gzip.compress(et + b" " * 200_000))
    assert traces.prefix(str(gz)) == (et + b" " * 200_000)[:traces.SNIFF_BYTES]
    assert traces.describe([str(gz)]) == [traces.TraceFile(str(gz), None, True, 4)]

    def f(path: str, is_et: bool = False, node: str | None = None) -> traces.TraceFile:
        return traces.TraceFile(path, node, is_et, traces.rank_in_file_name(path))

    tasks, failed = traces.group([f("k/rank1.json"), f("k/rank0.json"), f("e/et_1.json", True),
                                  f("e/et_9.json", True), f("e/host_et.json", True)])
    assert [t.paths for t in tasks] == [("e/et_9.json",), ("k/rank0.json",), ("k/rank1.json", "e/et_1.json")]
    assert [x["source"] for x in failed] == ["e/host_et.json"] and "no rank in the file name" in failed[0]["error"]
    tasks, failed = traces.group([f("a/kineto.json"), f("a/host_et.json", True)])
    assert [t.paths for t in tasks] == [("a/kineto.json", "a/host_et.json")] and failed == []
    tasks, _ = traces.group([f("n/rank1.json", node="A"), f("n/et_1.json", True, node="B")])
    assert [(t.paths, t.node) for t in tasks] == [((("n/rank1.json",), "A")), (("n/et_1.json",), "B")]
    listing = io.StringIO()
    with contextlib.redirect_stdout(listing):
        assert traces.main([str(SMALL), str(gz)]) == 0  # the Slurm task list: one line per rank
    # Tasks come in path order, whichever of the two folders sorts first on this machine.
    assert listing.getvalue().splitlines() == sorted([f"{gz}"] + [str(SMALL / f"rank{r}.pt.trace.json") for r in range(4)])


def test_shard_et_pair() -> None:
    """A rank's Kineto trace and its host execution trace go to one `reprise shard A B` call;
    the shard equals the binary's own on the pair."""
    traces_dir = SCRATCH / "et-pair"
    traces_dir.mkdir()
    for rank in (1, 2):
        shutil.copy(SMALL / f"rank{rank}.pt.trace.json", traces_dir)
    (traces_dir / "pytorch_et_1.json").write_text(json.dumps(MINIMAL_ET))
    wrapper, log = logging_binary("et-pair")
    out = SCRATCH / "et-pair-shards"
    assert main_rc("shard", "--traces", str(traces_dir), "--out", str(out), "@bin", wrapper) == 0
    calls = sorted(c[1:c.index("-o")] for c in logged_calls(log) if c[0] == "shard")
    assert calls == [[str(traces_dir / "rank1.pt.trace.json"), str(traces_dir / "pytorch_et_1.json")],
                     [str(traces_dir / "rank2.pt.trace.json")]], calls
    summary = summary_of(out)
    assert summary["failed"] == [] and [s["rank"] for s in summary["shards"]] == [1, 2]
    direct = reprise("shard", str(traces_dir / "rank1.pt.trace.json"), str(traces_dir / "pytorch_et_1.json"),
                     "-o", str(SCRATCH / "et-pair-direct"))
    assert summary["shards"][0]["events"] == direct["shards"][0]["events"]
    assert (out / "rank-1.rshard").read_bytes() == (SCRATCH / "et-pair-direct" / "rank-1.rshard").read_bytes()


def test_shard_rank_conflict() -> None:
    """Two files of one rank in two tasks: both fail, named in `failed`, and no rank-0.rshard is
    left in DIR (no random winner); the other ranks are written; exit 1."""
    traces_dir = SCRATCH / "conflict"
    for folder in ("a", "b"):
        (traces_dir / folder).mkdir(parents=True)
        shutil.copy(SMALL / "rank0.pt.trace.json", traces_dir / folder)
    shutil.copy(SMALL / "rank1.pt.trace.json", traces_dir / "a")
    out = SCRATCH / "conflict-shards"
    assert main_rc("shard", "--traces", str(traces_dir), "--out", str(out), "@bin", BINARY) == 1
    summary = summary_of(out)
    assert [s["rank"] for s in summary["shards"]] == [1]
    assert [x["source"] for x in summary["failed"]] == [str(traces_dir / "a" / "rank0.pt.trace.json"),
                                                        str(traces_dir / "b" / "rank0.pt.trace.json")]
    assert all("rank 0 comes from 2 tasks" in x["error"] and "rank-0.rshard removed" in x["error"]
               for x in summary["failed"])
    assert sorted(p.name for p in out.glob("*.rshard")) == ["rank-1.rshard"]


def test_shard_lost_task() -> None:
    """A task whose worker dies (after Ray's retries) fails its file; the other shards and
    shards.json are still written; exit 1."""
    wrapper, _ = logging_binary("lost", kill_when="rank2.pt")
    out = SCRATCH / "lost-shards"
    assert main_rc("shard", "--traces", str(SMALL), "--out", str(out), "@bin", wrapper) == 1
    summary = summary_of(out)
    assert [s["rank"] for s in summary["shards"]] == [0, 1, 3]
    assert [x["source"] for x in summary["failed"]] == [str(SMALL / "rank2.pt.trace.json")]
    assert summary["failed"][0]["error"].startswith("Ray task failed: "), summary["failed"]


def test_shard_summary_matches_swift() -> None:
    """shards.json has `reprise shard --json`'s keys (plus `failed`), its totals and its
    sizeRatio (over the decompressed bytes, 4 decimals) on the same set."""
    python = summary_of(shard_dir())
    swift = reprise("shard", str(SET), "-o", str(SCRATCH / "dlrm-direct"))
    assert set(python) - {"failed"} == set(swift), (sorted(python), sorted(swift))
    assert all(set(entry) == set(swift["shards"][0]) for entry in python["shards"])
    for key in ("sourceBytes", "sourceDecompressedBytes", "shardBytes", "sizeRatio", "formatVersion", "toolVersion"):
        assert python[key] == swift[key], f"{key}: {python[key]} != {swift[key]}"
    assert python["sizeRatio"] != round(python["shardBytes"] / python["sourceBytes"], 4)

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


def test_sweep_deterministic() -> None:
    """The same grid and inputs twice (cells reserving --num-cpus and --memory): byte-identical
    sweep.csv and sweep.json."""
    grid_file = SCRATCH / "grid-det.json"
    grid_file.write_text(json.dumps({"hardware": [None, "h100-sxm5-80gb"], "set": [["host.launch=2us"]]}))
    outs = [SCRATCH / "sweep-det-1", SCRATCH / "sweep-det-2"]
    for out in outs:
        assert main_rc("sweep", "--whatif-grid", str(grid_file), "--shards", str(SMALL), "--out", str(out),
                       "--num-cpus", "1", "--memory", "64MB", "@bin", BINARY) == 0
    for name in ("sweep.csv", "sweep.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), f"{name} differs between runs"
    assert cli.memory_bytes("8GB") == 8 * 10**9 and cli.memory_bytes("1.5GiB") == 3 * 2**29
    assert cli.memory_bytes("4096") == 4096
    assert main_rc("sweep", "--whatif-grid", str(grid_file), "--shards", str(SMALL), "--out", str(outs[0]),
                   "--memory", "100TB", "@bin", BINARY) == 64  # no node could run a cell: refused, not queued
    for bad in ("8G", "-1GB", "0", "GB"):
        try:
            cli.memory_bytes(bad)
        except argparse.ArgumentTypeError:
            continue
        raise AssertionError(f"--memory {bad} was accepted")


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
        package = Path(runtime_env["py_modules"][0])
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
        binary.cleanup()
        assert not package.parent.exists(), f"{package.parent} left behind"
    finally:
        binary.cleanup()
        ray.shutdown()


TESTS: list[Callable[[], None]] = [
    test_grid_cells, test_grouping, test_shard_round_trip, test_shard_summary_matches_swift,
    test_shard_node_local_gather, test_shard_et_pair, test_shard_rank_conflict, test_shard_lost_task,
    test_report_reduce, test_whatif_plan_reduce, test_sweep_2x2, test_sweep_failing_cell, test_sweep_deterministic,
    test_bad_arguments, test_ship_binary]


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
