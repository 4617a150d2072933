"""The command line of `python -m reprise_ray` (docs/scale-out.md)."""

from __future__ import annotations

import argparse
import re
import sys

from . import binary, cluster, reduce, shard, sweep
from .runner import Binary

DESCRIPTION = "Reprise on Ray: shard traces, reduce over shards, sweep what-ifs (docs/scale-out.md)."

EPILOG = """\
The reprise binary: --reprise, else $REPRISE_BIN, else `reprise` on PATH, else .build/release
then .build/debug in the repository. The tasks run that path where it exists on their node,
else $REPRISE_BIN or `reprise` on the node's PATH; --ship-binary uploads it with the tasks'
runtime_env instead. Ray: --address, else $RAY_ADDRESS (set by `ray job submit`), else a new
local instance. Arguments after `--` go to reprise unchanged.
"""


UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_bytes(text: str) -> int:
    """--memory: bytes (`8000000000`), or a number with a unit: kB, MB, GB, TB (powers of 1000)
    or KiB, MiB, GiB, TiB (powers of 1024), any case (`8GB`, `1.5GiB`)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if not match or unit not in UNITS:
        raise argparse.ArgumentTypeError(f"{text!r}: give bytes or a size with kB, MB, GB, TB, KiB, MiB, GiB or TiB")
    value = int(float(match.group(1)) * UNITS[unit])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 bytes")
    return value


def positive_cpus(text: str) -> float:
    """--num-cpus: a number of CPUs above 0 (fractions allowed, as Ray takes them)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of CPUs above 0")
    return int(value) if value.is_integer() else value


def _resources(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--num-cpus", type=positive_cpus, default=1, metavar="N",
                        help=f"CPUs {what} reserves (default: 1)")
    parser.add_argument("--memory", type=memory_bytes, metavar="SIZE",
                        help=f"memory {what} reserves in Ray's `memory` resource: bytes, or with a unit "
                             "(8GB, 1.5GiB); default: none reserved")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reprise", metavar="PATH", help="the reprise binary on this machine")
    parser.add_argument("--address", metavar="ADDR", help="the Ray cluster (default: $RAY_ADDRESS, else local)")
    parser.add_argument("--ship-binary", action="store_true",
                        help="upload the binary to the nodes in the tasks' runtime_env (py_modules)")
    parser.add_argument("--node-resource", metavar="NAME",
                        help="run the tasks only on nodes that have this custom Ray resource")


def parser() -> argparse.ArgumentParser:
    """The argument parser: shard, report, whatif, plan and sweep."""
    top = argparse.ArgumentParser(prog="python -m reprise_ray", description=DESCRIPTION, epilog=EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)
    p = commands.add_parser("shard", help="one Ray task per rank runs `reprise shard FILE... -o DIR` "
                            "(its trace and the execution traces of its rank)")
    p.add_argument("--traces", metavar="GLOB", nargs="+", action="extend", required=True,
                   help="trace files: glob patterns (** recursive; quote them) or directories")
    p.add_argument("--out", metavar="DIR", required=True, help="the shard directory (DIR/rank-<R>.rshard, shards.json)")
    p.add_argument("--node-local", action="store_true",
                   help="expand the patterns on every node and shard each file on the node that holds it")
    p.add_argument("--gather", action="store_true",
                   help="send the shards back to this machine's DIR (for nodes that do not share DIR)")
    _common(p)
    for name in reduce.COMMANDS:
        p = commands.add_parser(name, help=f"the reduce: `reprise {name} SHARDS... [-- ARGS]` in one Ray task")
        p.add_argument("--shards", metavar="PATH", nargs="+", required=True,
                       help="shard directories or files (traces work too)")
        p.add_argument("--output", metavar="FILE", help="write reprise's standard output here (on this machine)")
        _resources(p, "the reduce task")
        _common(p)
    p = commands.add_parser("sweep", help="a grid of what-ifs, one Ray task per cell, into one table and plot")
    p.add_argument("--whatif-grid", metavar="FILE", required=True, help="the grid (JSON, docs/scale-out.md)")
    p.add_argument("--shards", metavar="PATH", nargs="+", required=True,
                   help="shard directories or files (traces work too)")
    p.add_argument("--out", metavar="OUTDIR", required=True, help="sweep.csv, sweep.json and sweep.png go here")
    _resources(p, "each cell's task")
    _common(p)
    return top


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit code (64 for bad arguments or no binary)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        tool, runtime_env = binary.binary_for(args.reprise, args.ship_binary)
    except OSError as failure:  # not found, or not copied for --ship-binary
        print(f"reprise_ray: {failure}", file=sys.stderr)
        return 64
    try:
        return _run(args, extra, tool, runtime_env)
    finally:
        binary.cleanup()


def _run(args: argparse.Namespace, extra: list[str], tool: Binary, runtime_env: dict) -> int:
    """The command, once the binary is found: connects to Ray and runs it."""
    if extra and args.command == "shard":
        print("reprise_ray shard: takes no arguments after --", file=sys.stderr)
        return 64
    try:
        cluster.connect(args.address, runtime_env)
    except cluster.AlreadyConnected as failure:
        print(f"reprise_ray: {failure}", file=sys.stderr)
        return 64
    if args.node_resource and not cluster.alive_nodes(args.node_resource):
        print(f"reprise_ray: --node-resource {args.node_resource}: no alive node has it "
              "(`ray start --resources='{\"NAME\": 1}'` on the nodes that should run the tasks)", file=sys.stderr)
        return 64
    problem = None if args.command == "shard" else cluster.infeasible(args.num_cpus, args.memory, args.node_resource)
    if problem:
        print(f"reprise_ray: --num-cpus/--memory: {problem}", file=sys.stderr)
        return 64
    if args.command == "shard":
        return shard.run(args.traces, args.out, tool, args.node_resource, args.node_local, args.gather)
    if args.command == "sweep":
        return sweep.run(args.whatif_grid, args.shards, args.out, extra, tool, args.node_resource,
                         args.num_cpus, args.memory)
    return reduce.run(args.command, args.shards, extra, tool, args.node_resource, args.num_cpus, args.output,
                      args.memory)
