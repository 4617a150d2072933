"""`python -m reprise_ray shard`: one Ray task per trace file runs `reprise shard FILE -o DIR`."""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import ray

from . import cluster
from .runner import Binary, error_line, run_reprise

SUMMARY_SCHEMA = "reprise.shard-summary/v1"


def shard_file(binary: Binary, source: str, out_dir: str | None) -> dict[str, Any]:
    """Runs `reprise shard SOURCE -o OUT_DIR --json` on this node.

    With `out_dir` None (--gather) the shard goes to a temporary directory on the node and its
    bytes come back in `files` ({file name: bytes}) for the driver to write. Returns source,
    node, returncode, error (one line, or None), the shards of reprise's summary and the rest of
    that summary.
    """
    scratch = tempfile.mkdtemp(prefix="reprise-shard-") if out_dir is None else None
    target = scratch or out_dir or ""
    try:
        done = run_reprise(binary, ["shard", source, "-o", target, "--json"])
        result: dict[str, Any] = {"source": source, "node": done["node"], "returncode": done["returncode"],
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


TRACE_SUFFIXES = (".json", ".json.gz", ".trace.gz", ".et", ".tar.gz", ".tgz", ".tar")


def _traces_under(directory: str) -> list[str]:
    """The trace files and bundles below a directory, as `reprise` lists them: by suffix, hidden
    files and folders left out (and `shards.json`, a shard set's summary)."""
    out: list[str] = []
    for root, folders, files in os.walk(directory):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "__MACOSX"]
        out += [os.path.join(root, f) for f in files
                if not f.startswith(".") and f != "shards.json" and f.endswith(TRACE_SUFFIXES)]
    return out


def list_files(patterns: list[str]) -> list[str]:
    """The files the glob patterns match (`**` recursive; a directory stands for the trace files
    below it), sorted, each once.

    Paths stay relative when the pattern is: a task resolves them against its own working
    directory (the driver's on a local instance, the uploaded --working-dir under `ray job
    submit`).
    """
    found: set[str] = set()
    for pattern in patterns:
        for path in glob.glob(pattern, recursive=True):
            if os.path.isdir(path):
                found.update(os.path.normpath(p) for p in _traces_under(path))
            elif os.path.isfile(path):
                found.add(os.path.normpath(path))
    return sorted(found)


def discover_node_local(patterns: list[str], node_resource: str | None) -> list[tuple[str, str | None]]:
    """Expands the patterns on every alive node (with `node_resource`: every node that has it),
    one pinned task per node, as (file, node id).

    A path that several nodes see (shared storage) goes to the first of them in node-id order.
    """
    remote = ray.remote(num_cpus=0)(list_files)
    nodes = cluster.alive_nodes(node_resource)
    listings = ray.get([remote.options(**cluster.pinned(node)).remote(patterns) for node in nodes])
    owner: dict[str, str] = {}
    for node, files in zip(nodes, listings):
        for path in files:
            owner.setdefault(path, node)
    return sorted(owner.items())


def combine(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shards sorted by rank then path, and the failures sorted by source.

    Two sources that resolve to one rank are both failures: their shards would overwrite each
    other.
    """
    failures = [{"source": r["source"], "node": r["node"], "error": r["error"]} for r in results if r["error"]]
    by_rank: dict[int, list[dict[str, Any]]] = {}
    for result in results:
        for entry in result["shards"]:
            by_rank.setdefault(int(entry["rank"]), []).append(entry)
    shards: list[dict[str, Any]] = []
    for rank, entries in sorted(by_rank.items()):
        sources = sorted({str(entry["source"]) for entry in entries})
        if len(sources) > 1:
            for source in sources:
                failures.append({"source": source, "node": None,
                                 "error": f"rank {rank} comes from {len(sources)} files: {', '.join(sources)}"})
            continue
        shards.extend(sorted(entries, key=lambda entry: str(entry["path"])))
    failures.sort(key=lambda failure: (failure["source"], failure["error"]))
    return shards, failures


def summarize(results: list[dict[str, Any]], shards: list[dict[str, Any]],
              failures: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary of the whole set, as `reprise shard --json` gives one run's: its shards, the
    byte totals and ratio, the format and tool versions (null when the tasks' differ), and the
    files that failed."""
    def common(key: str) -> Any:
        values = {json.dumps(r["summary"].get(key)) for r in results if r["summary"]}
        return json.loads(values.pop()) if len(values) == 1 else None

    totals = {key: sum(int(entry.get(key) or 0) for entry in shards)
              for key in ("sourceBytes", "sourceDecompressedBytes", "shardBytes")}
    ratio = round(totals["shardBytes"] / totals["sourceBytes"], 4) if totals["sourceBytes"] else None
    return {"schema": SUMMARY_SCHEMA, "formatVersion": common("formatVersion"), "toolVersion": common("toolVersion"),
            **totals, "sizeRatio": ratio, "shards": shards, "failed": failures}


def write_gathered(results: list[dict[str, Any]], out_dir: str) -> None:
    """Writes the shards that came back with --gather into OUT_DIR and points their paths there."""
    for result in results:
        for entry in result["shards"]:
            name = os.path.basename(entry["path"])
            if name in result["files"]:
                Path(out_dir, name).write_bytes(result["files"][name])
                entry["path"] = os.path.join(out_dir, name)


def table(shards: list[dict[str, Any]], nodes: dict[str, str]) -> str:
    """The shards as a text table: rank, events, source and shard bytes, node, source."""
    lines = [f"{'rank':>5} {'events':>10} {'source bytes':>14} {'shard bytes':>13}  {'node':<16} source"]
    for entry in shards:
        lines.append(f"{entry['rank']:>5} {entry['events']:>10} {entry['sourceBytes']:>14} {entry['shardBytes']:>13}"
                     f"  {nodes.get(str(entry['source']), ''):<16} {entry['source']}")
    source = sum(int(entry["sourceBytes"]) for entry in shards)
    shard = sum(int(entry["shardBytes"]) for entry in shards)
    ratio = f" ({shard / source:.1%})" if source else ""
    lines.append(f"{len(shards)} shard(s), {source} source bytes -> {shard} shard bytes{ratio}")
    return "\n".join(lines)


def run(patterns: list[str], out_dir: str, binary: Binary, node_resource: str | None = None, node_local: bool = False, gather: bool = False) -> int:
    """Shards every matched file in one Ray task each and writes OUT_DIR/shards.json.

    Prints the table on stdout and one line per failure on stderr; returns 0 when every file
    became a shard, 1 otherwise (2 when nothing matched).
    """
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    options = cluster.task_options(node_resource)
    placed = discover_node_local(patterns, node_resource) if node_local else [(path, None) for path in list_files(patterns)]
    if not placed:
        print(f"reprise_ray shard: no files match {' '.join(patterns)}", file=sys.stderr)
        return 2
    remote = ray.remote(num_cpus=1)(shard_file)
    target = None if gather else out_dir
    refs = [remote.options(**options, **(cluster.pinned(node) if node else {})).remote(binary, path, target)
            for path, node in placed]
    results = ray.get(refs)
    if gather:
        write_gathered(results, out_dir)
    shards, failures = combine(results)
    summary = summarize(results, shards, failures)
    Path(out_dir, "shards.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(table(shards, {r["source"]: r["node"] for r in results}))
    for failure in failures:
        print(f"reprise_ray shard: {failure['source']}: {failure['error']}", file=sys.stderr)
    return 1 if failures else 0
