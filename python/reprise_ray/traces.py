"""The trace files of `python -m reprise_ray shard`: listing them, telling what each one is
cheaply, and grouping the files of one rank into one task.

A PyTorch host execution trace (ET) is not a rank of its own: `reprise` links it with the Kineto
trace of its rank, so both must reach the same `reprise shard A B -o DIR` call. Nothing here
parses a trace: the rank is the one the file name states and the ET is told by its first 64 KB,
by the binary's own rules (Sources/TraceImport/RankResolver.swift and PyTorchETImporter.sniff).

Only the standard library is used: this module runs in Ray tasks too (`--node-local`).
"""

from __future__ import annotations

import glob
import os
import re
import sys
import zlib
from dataclasses import dataclass

TRACE_SUFFIXES = (".json", ".json.gz", ".trace.gz", ".et", ".tar.gz", ".tgz", ".tar")
SNIFF_BYTES = 65_536  # TraceFormatDescriptor.sniffLength
UNKNOWN_RANK = ("cannot tell which rank this execution trace belongs to: no rank in the file name "
                "(rank-3, rank3, worker3, _3.json) and not the only trace with one Kineto trace")


@dataclass(frozen=True)
class TraceFile:
    """One matched file: where it is (`node`: the node that lists it, None for the driver's
    listing), whether it is a PyTorch host execution trace, and the rank its name states."""

    path: str
    node: str | None
    execution_trace: bool
    name_rank: int | None


@dataclass(frozen=True)
class Task:
    """One `reprise shard` call: its files (a rank's trace first, then the execution traces
    that go with it) and the node it is pinned to (None: anywhere)."""

    paths: tuple[str, ...]
    node: str | None


def _traces_under(directory: str) -> list[str]:
    """The trace files below a directory, as `reprise` lists them: by suffix, hidden
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


def describe(paths: list[str], node: str | None = None) -> list[TraceFile]:
    """Each file with its kind and the rank its name states (reads at most 64 KB of each)."""
    return [TraceFile(path, node, is_execution_trace(prefix(path)), rank_in_file_name(path)) for path in paths]


def list_and_describe(patterns: list[str], node: str | None = None) -> list[TraceFile]:
    """list_files, then describe: what one node's listing task returns."""
    return describe(list_files(patterns), node)


# The rank a file name states: RankResolver.rank(inFileName:).

def rank_in_file_name(path: str) -> int | None:
    """The rank a file name states: `rank-3`, `rank3`, `rank_3`, `worker3`, `name.3.et`,
    `name.3.json`, `…_3.json`, `…-3.json.gz`; None when it states none."""
    parts = [p for p in path.split("/") if p]
    last = parts[-1] if parts else path
    members = [p for p in last.split(":") if p]  # a bundle member: `bundle.tar.gz:dir/rank3.json`
    base = (members[-1] if members else last).lower()
    for rule in (_rank_after_word, _rank_before_chakra_extension, _rank_at_end_of_stem):
        rank = rule(base)
        if rank is not None:
            return rank
    return None


def _rank_after_word(base: str) -> int | None:
    """`rank-3`, `rank3`, `rank_3`, `worker3` anywhere in the name (at most 7 digits read)."""
    data = base.encode()
    for word in (b"rank", b"worker"):
        start = data.find(word)
        while start >= 0:
            i = start + len(word)
            if i < len(data) and data[i:i + 1] in (b"-", b"_"):
                i += 1
            digits = re.match(rb"[0-9]{1,7}", data[i:])
            if digits:
                return int(digits.group())
            start = data.find(word, start + len(word))
    return None


def _swift_int(text: str) -> int | None:
    """Swift's `Int(text)`: an optional sign, then ASCII digits only."""
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None


def _rank_before_chakra_extension(base: str) -> int | None:
    """Chakra: `all_reduce.3.et`, `chakra.0.json`."""
    for ext in (".et", ".json"):
        if base.endswith(ext):
            parts = [p for p in base[:-len(ext)].split(".") if p]
            if len(parts) >= 2 and len(parts[-1]) <= 6:
                rank = _swift_int(parts[-1])
                if rank is not None:
                    return rank
    return None


def _rank_at_end_of_stem(base: str) -> int | None:
    """`…_3.json`, `…-3.json.gz`, `…_3.pt.trace.json`."""
    stem = base
    for ext in (".json.gz", ".json", ".pt.trace", ".trace"):
        if stem.endswith(ext):
            stem = stem[:-len(ext)]
    if stem.endswith(".pt.trace"):
        stem = stem[:-len(".pt.trace")]
    digits = re.search(r"[0-9]*$", stem)
    j = digits.start() if digits else len(stem)
    if j < len(stem) and j > 0 and stem[j - 1] in "_-" and len(stem) - j <= 6:
        return int(stem[j:])
    return None


# What a file is: the binary's sniff of its first (decompressed) 64 KB.

def prefix(path: str, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` bytes of the file, decompressed when it is gzip; what can be read of
    them when the file is short, truncated or unreadable (empty when it cannot be opened)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(size)
            if head[:2] != b"\x1f\x8b":
                return head
            inflate = zlib.decompressobj(wbits=31)
            out, data = b"", head
            while len(out) < size and data and not inflate.eof:
                out += inflate.decompress(data, size - len(out))
                data = inflate.unconsumed_tail or handle.read(size)
            return out[:size]
    except (OSError, zlib.error):
        return b""


def _first_byte(data: bytes) -> int | None:
    """The first byte that is not JSON whitespace, after a UTF-8 byte-order mark."""
    stripped = data[3:] if data[:3] == b"\xef\xbb\xbf" else data
    stripped = stripped.lstrip(b" \n\r\t")
    return stripped[0] if stripped else None


def _is_chakra_protobuf(data: bytes) -> bool:
    """ChakraProtobufImporter.sniff: a varint-delimited GlobalMetadata then the start of a Node
    (sniffed before the ET, so a file that passes is not an ET)."""
    i = 0

    def varint() -> int | None:
        nonlocal i
        value, shift = 0, 0
        while i < len(data) and shift < 64:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            if byte & 0x80 == 0:
                return value & 0xFFFFFFFFFFFFFFFF
            shift += 7
        return None

    length = varint()
    if length is None or length == 0 or length >= len(data):
        return False
    end = i + length
    if end >= len(data):
        return False
    while i < end:
        tag = varint()
        if tag not in (0x0A, 0x12):
            return False
        field = varint()
        if field is None or i + field > end:
            return False
        i += field
    if i != end or varint() is None or i >= len(data):
        return False
    return data[i] in (0x08, 0x12)


def is_execution_trace(data: bytes) -> bool:
    """PyTorchETImporter.sniff on a file's first 64 KB: a JSON object with `"nodes"` and
    `"schema"` and no `"traceEvents"` (and not a shard or Chakra protobuf, sniffed first)."""
    if data[:8] == b"RPRSHARD" or _is_chakra_protobuf(data):
        return False
    return (_first_byte(data) == ord("{") and b'"nodes"' in data and b'"schema"' in data
            and b'"traceEvents"' not in data)


# One task per rank.

def group(files: list[TraceFile]) -> tuple[list[Task], list[dict[str, str | None]]]:
    """The tasks, one per rank file (in path order) with the execution traces of its rank, and
    the execution traces that cannot be placed (as failures: source, node, error).

    An ET goes with the rank file on its node whose name states the same rank (the first in path
    order when several do: their rank conflict is reported after the run); an ET whose rank no
    rank file names is a task of its own (it becomes that rank's graph). An ET whose name states
    no rank goes with the only rank file when it is the only ET and there is at most one rank
    file (the binary's rule); else it fails, as `reprise shard` would fail on the whole set.
    """
    ranked = sorted((f for f in files if not f.execution_trace), key=lambda f: (f.node or "", f.path))
    hosts = sorted((f for f in files if f.execution_trace), key=lambda f: (f.node or "", f.path))
    members: dict[str, list[str]] = {f.path: [f.path] for f in ranked}
    by_name: dict[tuple[str | None, int], str] = {}
    for f in ranked:
        if f.name_rank is not None:
            by_name.setdefault((f.node, f.name_rank), f.path)
    only = len(hosts) == 1 and len(ranked) <= 1
    alone: list[TraceFile] = []
    failures: list[dict[str, str | None]] = []
    for et in hosts:
        if et.name_rank is not None and (et.node, et.name_rank) in by_name:
            members[by_name[(et.node, et.name_rank)]].append(et.path)
        elif et.name_rank is None and only and ranked and ranked[0].node == et.node:
            members[ranked[0].path].append(et.path)
        elif et.name_rank is not None or only:
            alone.append(et)
        else:
            failures.append({"source": et.path, "node": et.node, "error": UNKNOWN_RANK})
    tasks = [Task(tuple(members[f.path]), f.node) for f in ranked] + [Task((f.path,), f.node) for f in alone]
    tasks.sort(key=lambda task: (task.node or "", task.paths))
    return tasks, failures


def main(argv: list[str]) -> int:
    """`python -m reprise_ray.traces GLOB...`: the shard tasks, one line each, its files
    separated by tabs (a rank's trace, then the execution traces of its rank), as a task list
    for a Slurm array (docs/scale-out.md); an execution trace that fits no rank on stderr, exit 1.
    Needs only the standard library, not Ray."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m reprise_ray.traces GLOB_OR_DIR...  (one line per rank: its files, tab-separated)")
        return 0 if argv else 64
    tasks, failures = group(describe(list_files(argv)))
    for task in tasks:
        print("\t".join(task.paths))
    for failure in failures:
        print(f"reprise_ray.traces: {failure['source']}: {failure['error']}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
