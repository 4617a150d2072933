#!/usr/bin/env python3
"""Validates `reprise report` output on every multi-rank trace set against docs/report.schema.json:
the bundled ones (Traces/) and, when given, those of the optional external corpus of public traces
(a folder laid out as <project>/<path in the project>, e.g. $REPRISE_TRACE_CORPUS).

For each set: writes the report (and its CSV folder) twice and checks the two are byte-identical,
then validates the JSON with jsonschema's Draft 2020-12 validator. One set is also reported under
a what-if, whose whatIf section must name the knob and show baseline and predicted steps, and
with --detail, which alone adds the full lists (bubbles.intervals, criticalPath.segments,
bandwidth.instances).
Exits non-zero on the first failure. Run by `make test` (tools/pycheck.sh).

usage: check_reports.py REPRISE_BINARY CORPUS_DIR_OR_EMPTY
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sets(corpus):
    out = [os.path.join(ROOT, p) for p in ["Traces/generated/ddp-4rank", "Traces/generated/pipeline-2rank",
                                           "Traces/generated/comm-bound-4rank", "Traces/public/dlrm-8rank",
                                           "Traces/kineto-cpu/ddp-gloo-4rank"]]
    if corpus and os.path.isdir(corpus):
        for rel in ["hta/tests/data/trace_filter"]:
            p = os.path.join(corpus, rel)
            if os.path.isdir(p):
                out.append(p)
    return out


def report(binary, path, tmp, tag, extra=()):
    out = os.path.join(tmp, tag + ".json")
    csv = os.path.join(tmp, tag + "-csv")
    subprocess.run([binary, "report", path, "-o", out, "--csv", csv, *extra], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = {}
    for name in sorted(os.listdir(csv)):
        with open(os.path.join(csv, name), "rb") as f:
            files[name] = f.read()
    with open(out, "rb") as f:
        return f.read(), files


def main():
    binary, corpus = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    with open(os.path.join(ROOT, "docs/report.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    checked = 0
    # The schema must reject broken reports, or validating proves nothing.
    broken = {"schema": "reprise.report/v2"}
    if validator.is_valid(broken):
        sys.exit("FAIL schema accepts a report without sections")
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(sets(corpus)):
            runs = [("plain", ())]
            if i == 0:
                runs.append(("whatif", ("--whatif", "compute.scale=0.5", "--model", "llama-2-7b")))
                runs.append(("detail", ("--detail",)))
            for tag, extra in runs:
                a, csv_a = report(binary, path, tmp, f"{i}-{tag}-a", extra)
                b, csv_b = report(binary, path, tmp, f"{i}-{tag}-b", extra)
                if a != b or csv_a != csv_b:
                    sys.exit(f"FAIL {path} ({tag}): report differs between two runs")
                doc = json.loads(a)
                errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
                if errors:
                    e = errors[0]
                    sys.exit(f"FAIL {path} ({tag}): {len(errors)} schema error(s); first at /{'/'.join(map(str, e.path))}: {e.message}")
                bad = json.loads(a)
                bad["bubbles"]["ranks"] and bad["bubbles"]["ranks"][0].update(idleNs=-1)
                bad["criticalPath"]["byCategoryNs"]["bubble"] = "1"
                bad["summary"]["surprise"] = 1
                if len(list(validator.iter_errors(bad))) < 2:
                    sys.exit(f"FAIL {path}: schema accepts a corrupted report")
                lists = ("intervals" in doc["bubbles"], "segments" in doc["criticalPath"], "instances" in doc["bandwidth"])
                if lists != ((True,) * 3 if tag == "detail" else (False,) * 3):
                    sys.exit(f"FAIL {path} ({tag}): full lists {'missing' if tag == 'detail' else 'present'}: {lists}")
                if tag == "whatif":
                    w = doc["whatIf"]
                    if w is None or w["knobs"] != {"compute.scale": "0.5"} or not (0 < w["predictedStepNs"] < w["baselineStepNs"]):
                        sys.exit(f"FAIL {path}: whatIf does not show the change: {w and {k: w[k] for k in ('knobs', 'baselineStepNs', 'predictedStepNs')}}")
                    if doc["memory"]["modeled"] is None:
                        sys.exit(f"FAIL {path}: --model gave no modeled memory")
                elif doc["whatIf"] is not None:
                    sys.exit(f"FAIL {path}: whatIf present without --whatif")
                if len(csv_a) < 8:
                    sys.exit(f"FAIL {path}: only {len(csv_a)} CSV files")
                checked += 1
                print(f"ok  {os.path.relpath(path, ROOT)} ({tag}): {len(a)} bytes, schema valid, byte-identical rerun, {len(csv_a)} CSV files")
    print(f"{checked} reports valid")


if __name__ == "__main__":
    main()
