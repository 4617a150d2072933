#!/usr/bin/env python3
"""Counts the nodes of Chakra .et files with MLCommons' own reader and with Reprise, side by side.

usage: check_chakra_counts.py REPRISE_BINARY FILE.et... (or directories holding .et files)

Needs `pip install mlc-chakra` (PyPI; its protobuf schema and protolib reader). For every file,
decodes GlobalMetadata + Nodes with chakra.src.third_party.utils.protolib, counts nodes per
NodeType name, runs `reprise ingest --json FILE` and compares with its files[].recordTypes.
Exits 1 on any difference. Output recorded in docs/chakra.md.
"""
import collections
import json
import os
import subprocess
import sys

from chakra.schema.protobuf.et_def_pb2 import GlobalMetadata, Node, NodeType
from chakra.src.third_party.utils.protolib import decodeMessage, openFileRd


def chakra_counts(path):
    f = openFileRd(path)
    meta = GlobalMetadata()
    decodeMessage(f, meta)
    counts = collections.Counter()
    node = Node()
    while decodeMessage(f, node):
        counts[NodeType.Name(node.type)] += 1
        node = Node()
    f.close()
    return dict(counts)


def reprise_counts(binary, path):
    out = subprocess.run([binary, "ingest", "--json", path], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()}
    return json.loads(out.stdout)["files"][0].get("recordTypes", {})


def main():
    binary, paths = sys.argv[1], sys.argv[2:]
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".et"))
        else:
            files.append(p)
    bad = 0
    print("| file | mlc-chakra | Reprise | equal |")
    print("|---|---|---|---|")
    for path in files:
        a, b = chakra_counts(path), reprise_counts(binary, path)
        same = a == b
        bad += not same
        fmt = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        print(f"| {path} | {fmt(a)} | {fmt(b)} | {'yes' if same else 'NO'} |")
    print(f"{len(files) - bad} of {len(files)} files agree")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
