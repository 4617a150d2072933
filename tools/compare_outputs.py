#!/usr/bin/env python3
"""Checks that two builds of reprise give the same outputs on the same trace sets.

usage: tools/compare_outputs.py OLD_REPRISE NEW_REPRISE [SET ...]

SET defaults to the bundled DLRM (Traces/public/dlrm-8rank), Megatron-style
(Traces/generated/megatron-tp8) and TraceLens-origin (Traces/public/mi300-qwen1.5-0.5b,
Traces/public/h100-qwen1.5-0.5b) sets. For each set it runs `ingest --json`, `breakdown --json`,
`whatif --set compute.scale=0.5 --json` and `report --csv DIR` with both binaries and compares
them byte for byte (new CSV files that the old build did not write are listed, not failed).
The report itself is compared byte for byte when both builds write the same schema; across
`reprise.report/v1` -> `v2` (issue 16: the summary by default), v2's `--detail` must equal v1
once v2's new summary keys are set aside, and v2's default must equal v1 without its three
full lists. Exits 1 on any difference.
"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["Traces/public/dlrm-8rank", "Traces/generated/megatron-tp8", "Traces/public/mi300-qwen1.5-0.5b",
        "Traces/public/h100-qwen1.5-0.5b"]
NEW_KEYS = {"bubbles": ["intervalCount", "byCause", "byLane", "longest"],
            "criticalPath": ["segmentCount", "byOp", "longestSegments"],
            "bandwidth": ["instanceCount", "byGroup", "longest"]}
FULL_LISTS = {"bubbles": "intervals", "criticalPath": "segments", "bandwidth": "instances"}


def run(binary, args, out=None):
    r = subprocess.run([binary] + args, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"compare_outputs: {binary} {' '.join(args)} failed: {r.stderr.decode()[-400:]}")
    if out:
        with open(out, "wb") as f:
            f.write(r.stdout)


def without(doc, drop_new=False, drop_full=False):
    doc = {k: v for k, v in doc.items() if k != "schema"}
    for section in NEW_KEYS:
        if section in doc and isinstance(doc[section], dict):
            doc[section] = dict(doc[section])
            for k in NEW_KEYS[section] if drop_new else []:
                doc[section].pop(k, None)
            if drop_full:
                doc[section].pop(FULL_LISTS[section], None)
    return doc


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    old, new = sys.argv[1], sys.argv[2]
    sets = sys.argv[3:] or [os.path.join(ROOT, s) for s in SETS]
    tmp = tempfile.mkdtemp(prefix="reprise-compare-")
    failures = 0
    for path in sets:
        name = os.path.basename(path.rstrip("/"))
        outs = {}
        for tag, binary in (("old", old), ("new", new)):
            d = os.path.join(tmp, tag, name)
            os.makedirs(d, exist_ok=True)
            run(binary, ["ingest", path, "--json"], os.path.join(d, "ingest.json"))
            run(binary, ["breakdown", path, "--json"], os.path.join(d, "breakdown.json"))
            run(binary, ["whatif", path, "--set", "compute.scale=0.5", "--json"], os.path.join(d, "whatif.json"))
            run(binary, ["report", path, "-o", os.path.join(d, "report.json"), "--csv", os.path.join(d, "csv")])
            outs[tag] = d
        o, n = outs["old"], outs["new"]
        problems = [f for f in ("ingest.json", "breakdown.json", "whatif.json")
                    if not filecmp.cmp(os.path.join(o, f), os.path.join(n, f), shallow=False)]
        cmp = filecmp.dircmp(os.path.join(o, "csv"), os.path.join(n, "csv"))
        problems += [f"csv/{f}" for f in cmp.diff_files + cmp.left_only]
        added = cmp.right_only
        old_report = json.load(open(os.path.join(o, "report.json")))
        new_report = json.load(open(os.path.join(n, "report.json")))
        if old_report["schema"] == new_report["schema"]:
            if not filecmp.cmp(os.path.join(o, "report.json"), os.path.join(n, "report.json"), shallow=False):
                problems.append("report.json")
        else:
            run(new, ["report", path, "--detail", "-o", os.path.join(n, "report-detail.json")])
            detail = json.load(open(os.path.join(n, "report-detail.json")))
            if without(detail, drop_new=True) != without(old_report):
                problems.append("report --detail vs v1")
            if without(new_report, drop_new=True) != without(old_report, drop_full=True):
                problems.append("report summary vs v1 without the full lists")
        print(f"{name}: {'identical' if not problems else 'DIFFERENT: ' + ', '.join(problems)}"
              + (f" (new CSV files: {', '.join(sorted(added))})" if added else ""))
        failures += bool(problems)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
