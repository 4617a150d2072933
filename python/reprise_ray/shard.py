"""`python -m reprise_ray shard`: one Ray task per rank runs `reprise shard FILE... -o DIR` on
the rank's trace and the host execution traces that go with it (traces.group)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import ray

from . import cluster, traces
from .runner import Binary, error_line, run_reprise

SUMMARY_SCHEMA = "reprise.shard-summary/v1"


def shard_files(binary: Binary, sources: list[str], out_dir: str | None) -> dict[str, Any]:
    """Runs `reprise shard SOURCES... -o OUT_DIR --json` on this node.

    With `out_dir` None (--gather) the shards go to a temporary directory on the node and their
    bytes come back in `files` ({file name: bytes}) for the driver to write. Returns sources,
    node, returncode, error (one line, or None), the shards of reprise's summary and the rest of
    that summary.
    """
    scratch = tempfile.mkdtemp(prefix="reprise-shard-") if out_dir is None else None
    target = scratch or out_dir or ""
    try:
        done = run_reprise(binary, ["shard", *sources, "-o", target, "--json"])
        result: dict[str, Any] = {"sources": list(sources), "node": done["node"], "returncode": done["returncode"],
                                  "error": None, "summary": {}, "shards": [], "files": {}}
        if done["returncode"] != 0:
            result["error"] = error_line(done["stderr"]) or f"reprise shard exited {done['returncode']}"
            return result
        try:
            result["summary"] = json.loads(done["stdout"])
            result["shards"] = result["summary"].pop("shards")
        except (ValueError, KeyError, TypeError) as error:
            result.update(returncode=1, error=f"unreadable `reprise shard --json` output: {error}")
            return result
        if scratch is not None:
            for entry in result["shards"]:
                name = os.path.basename(entry["path"])
                result["files"][name] = Path(scratch, name).read_bytes()
        return result
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def lost(task: traces.Task, error: str) -> dict[str, Any]:
    """The result of a task that Ray lost or whose code raised: every file of it failed."""
    return {"sources": list(task.paths), "node": task.node, "returncode": None, "error": error, "summary": {},
            "shards": [], "files": {}}


def discover_node_local(patterns: list[str], node_resource: str | None
                        ) -> tuple[list[traces.TraceFile], list[dict[str, Any]]]:
    """Expands the patterns on every alive node (with `node_resource`: every node that has it),
    one pinned task per node that also tells what each file is; returns the files and the
    nodes whose listing failed (as failures).

    A path that several nodes see (shared storage) goes to the first of them in node-id order.
    """
    remote = ray.remote(num_cpus=0)(traces.list_and_describe)
    refs = {remote.options(**cluster.pinned(node)).remote(patterns, node): node
            for node in cluster.alive_nodes(node_resource)}
    listings: dict[str, list[traces.TraceFile]] = {}
    failures: list[dict[str, Any]] = []
    for node, files, error in cluster.completed(refs):
        if error:
            failures.append({"source": " ".join(patterns), "node": node, "error": f"listing the files failed: {error}"})
        else:
            listings[str(node)] = files
    owner: dict[str, traces.TraceFile] = {}
    for node in sorted(listings):
        for file in listings[node]:
            owner.setdefault(file.path, file)
    return [owner[path] for path in sorted(owner)], failures


def remove_shard(path: str) -> None:
    """Deletes a shard file; one already gone is fine."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def combine(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shards sorted by rank then path, and the failures sorted by source: one per file of a
    failed task.

    Two tasks that wrote the same rank are failures, every file of both, and the rank's shard
    (written by whichever task finished last) is deleted: no random winner is left in DIR.
    """
    failures = [{"source": source, "node": r["node"], "error": r["error"]}
                for r in results if r["error"] for source in r["sources"]]
    by_rank: dict[int, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for result in results:
        for entry in result["shards"]:
            by_rank.setdefault(int(entry["rank"]), []).append((entry, result))
    shards: list[dict[str, Any]] = []
    for rank, pairs in sorted(by_rank.items()):
        if len(pairs) == 1:
            shards.append(pairs[0][0])
            continue
        sources = sorted({source for _, result in pairs for source in result["sources"]})
        for path in sorted({str(entry["path"]) for entry, _ in pairs}):
            remove_shard(path)
        for entry, result in pairs:
            for source in result["sources"]:
                failures.append({"source": source, "node": result["node"],
                                 "error": f"rank {rank} comes from {len(pairs)} tasks ({', '.join(sources)}): "
                                          f"rank-{rank}.rshard removed"})
    shards.sort(key=lambda entry: (int(entry["rank"]), str(entry["path"])))
    failures.sort(key=lambda failure: (str(failure["source"]), str(failure["error"]), str(failure["node"])))
    return shards, failures


def size_ratio(shard_bytes: int, source_decompressed_bytes: int) -> float:
    """Shard bytes over the sources' decompressed bytes, rounded to 4 decimals half away from
    zero, 0 when the sources are empty: ShardSummary.sizeRatio's rule, to the bit."""
    if source_decompressed_bytes <= 0:
        return 0.0
    scaled = shard_bytes / source_decompressed_bytes * 10_000
    whole = math.floor(scaled)
    return float(whole + (1 if scaled - whole >= 0.5 else 0)) / 10_000


def summarize(results: list[dict[str, Any]], shards: list[dict[str, Any]],
              failures: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary of the whole set, as `reprise shard --json` gives one run's: its shards, the
    byte totals and ratio, the format and tool versions (null when the tasks' differ), and,
    beyond `reprise shard`'s keys, the files that failed."""
    def common(key: str) -> Any:
        values = {json.dumps(r["summary"].get(key)) for r in results if r["summary"]}
        return json.loads(values.pop()) if len(values) == 1 else None

    totals = {key: sum(int(entry.get(key) or 0) for entry in shards)
              for key in ("sourceBytes", "sourceDecompressedBytes", "shardBytes")}
    ratio = size_ratio(totals["shardBytes"], totals["sourceDecompressedBytes"])
    return {"schema": SUMMARY_SCHEMA, "formatVersion": common("formatVersion"), "toolVersion": common("toolVersion"),
            **totals, "sizeRatio": ratio, "shards": shards, "failed": failures}


def write_gathered(result: dict[str, Any], out_dir: str) -> None:
    """Writes the shards that came back with one --gather task into OUT_DIR (each under a
    temporary name, then renamed over any older one), points their paths there and drops the
    bytes."""
    for entry in result["shards"]:
        name = os.path.basename(entry["path"])
        if name in result["files"]:
            path = os.path.join(out_dir, name)
            Path(path + ".partial").write_bytes(result["files"].pop(name))
            os.replace(path + ".partial", path)
            entry["path"] = path
    result["files"] = {}


def table(shards: list[dict[str, Any]], nodes: dict[str, str]) -> str:
    """The shards as a text table: rank, events, source bytes (on disk, decompressed), shard
    bytes, node, source; then the totals and the ratio to the decompressed bytes."""
    lines = [f"{'rank':>5} {'events':>10} {'source bytes':>14} {'decompressed':>14} {'shard bytes':>13}"
             f"  {'node':<16} source"]
    for entry in shards:
        lines.append(f"{entry['rank']:>5} {entry['events']:>10} {entry['sourceBytes']:>14}"
                     f" {entry['sourceDecompressedBytes']:>14} {entry['shardBytes']:>13}"
                     f"  {nodes.get(str(entry['source']), ''):<16} {entry['source']}")
    source = sum(int(entry["sourceBytes"]) for entry in shards)
    decompressed = sum(int(entry["sourceDecompressedBytes"]) for entry in shards)
    shard = sum(int(entry["shardBytes"]) for entry in shards)
    ratio = f" ({size_ratio(shard, decompressed):.1%} of their decompressed size)" if decompressed else ""
    lines.append(f"{len(shards)} shard(s), {source} source bytes ({decompressed} decompressed)"
                 f" -> {shard} shard bytes{ratio}")
    return "\n".join(lines)


def run(patterns: list[str], out_dir: str, binary: Binary, node_resource: str | None = None,
        node_local: bool = False, gather: bool = False) -> int:
    """Shards the matched files, one Ray task per rank (traces.group), and writes
    OUT_DIR/shards.json.

    Each result is taken as its task ends (with --gather its shards are written and dropped
    then); a task that raised or that Ray lost fails its files and the others go on. Prints the
    table on stdout and one line per failure on stderr; returns 0 when every file became part
    of a shard, 1 otherwise (2 when nothing matched).
    """
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    options = cluster.task_options(node_resource)
    if node_local:
        files, failed_listings = discover_node_local(patterns, node_resource)
    else:
        files, failed_listings = traces.describe(traces.list_files(patterns)), []
    if not files and not failed_listings:
        print(f"reprise_ray shard: no files match {' '.join(patterns)}", file=sys.stderr)
        return 2
    tasks, unplaced = traces.group(files)
    remote = ray.remote(num_cpus=1)(shard_files)
    target = None if gather else out_dir
    refs = {remote.options(**options, **(cluster.pinned(task.node) if task.node else {})).remote(
        binary, list(task.paths), target): task for task in tasks}
    results: list[dict[str, Any]] = []
    for task, result, error in cluster.completed(refs):
        result = lost(task, error) if error else result
        if gather:
            write_gathered(result, out_dir)
        results.append(result)
    results.sort(key=lambda result: result["sources"])
    shards, failures = combine(results)
    failures = sorted(failures + unplaced + failed_listings,
                      key=lambda failure: (str(failure["source"]), str(failure["error"]), str(failure["node"])))
    summary = summarize(results, shards, failures)
    Path(out_dir, "shards.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(table(shards, {source: r["node"] for r in results for source in r["sources"]}))
    for failure in failures:
        print(f"reprise_ray shard: {failure['source']}: {failure['error']}", file=sys.stderr)
    return 1 if failures else 0
