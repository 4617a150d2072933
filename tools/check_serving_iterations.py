#!/usr/bin/env python3
"""Finds the serving iterations of raw Kineto traces, independently of Reprise's Swift code.

usage: check_serving_iterations.py [--json] [--iterations] TRACE.json[.gz]...
       check_serving_iterations.py [--json] --graph-capture CAPTURE.json[.gz] EXEC.json[.gz]

Plain python3, standard library only. It reads the Chrome-trace JSON as written by the PyTorch
profiler and applies the rules of docs/models/serving.md (section "Iterations"), so that
`reprise serve` and this script cross-check each other. For every trace (one rank per file) it
prints the iterations by kind with their tokens, batch and KV length; `--iterations` adds one
line per iteration, `--json` prints one JSON document instead of the tables.

Iterations come from the first rule that finds any:
  1. engine annotations (host categories, any event name), outermost wins when they nest:
     `prefill` / `decode` (exact, any case); vLLM/TraceLens
     `execute_{N}_context_{C}(sq{T}sk{Tk}sqsq..sqsk..)_generation_{G}(sq{Q}sk{K}sqsq..sqsk..)`;
     SGLang `step[DECODE bs=N]`, `step[EXTEND bs=N]`, `step[PREFILL bs=N]`, `step[MIXED ...]`;
     python_function names ending in `: execute_model` (vLLM) only when none of those exist;
  2. `ProfilerStep#N` annotations;
  3. the repeating unit: among root user annotations (record_function ranges), else among the
     other root host events (cpu_op, python_function, Operator), the names seen at least twice
     without overlapping, the one with the largest total duration (ties: name order); else the
     whole rank (its record window) is one iteration.
Kind, batch, tokens and KV length not given by the annotation come from the first attention op
(`scaled_dot_product_attention` family, q [b, h, s, d], k [b, h, t, d]) inside the iteration:
s == 1 decode, s > 1 prefill; no attention op: "forward". Durations: the iteration's own span
(host) and, beside it, from its start to the end of the last device work it launched (matched
by `correlation`; a graph launch's kernels carry the launch's). On a host-timed iteration
(no device work), `--iterations` and `--json` also split it into the outermost attention ops,
the outermost GEMM ops outside them and the rest, with the K and V bytes the attention read.

`--graph-capture CAPTURE EXEC`: the kernel launches between `*StreamBeginCapture` and
`*StreamEndCapture` (same thread) of the capture trace against the kernels correlated to the
`*GraphLaunch` of the execution trace, position by position, and the innermost shaped cpu_op
enclosing each captured launch.
"""
import bisect
import collections
import gzip
import json
import re
import sys

HOST_CATS = {"cpu_op", "user_annotation", "python_function", "operator", "Operator"}
ANNOTATION_CATS = {"user_annotation", "cpu_op", "Operator", "operator"}
ATTENTION_OPS = {
    "aten::scaled_dot_product_attention",
    "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_attention_math",
}
LINEAR_OPS = {"aten::linear", "aten::addmm", "aten::mm", "aten::matmul", "aten::bmm", "aten::baddbmm"}
ELEMENT_BYTES = {"float": 4, "double": 8, "c10::BFloat16": 2, "c10::Half": 2, "BFloat16": 2, "Half": 2,
                 "c10::Float8_e4m3fn": 1, "c10::Float8_e5m2": 1, "signed char": 1, "unsigned char": 1}
EXECUTE_RE = re.compile(
    r"^execute_(\d+)_context_(\d+)\(sq(\d+)sk(\d+)sqsq\d+sqsk\d+\)"
    r"_generation_(\d+)\(sq(\d+)sk(\d+)sqsq\d+sqsk\d+\)$"
)
SGLANG_RE = re.compile(r"^step\[(DECODE|EXTEND|PREFILL|MIXED)\b([^\]]*)\]$")
RUNTIME_CATS = {"cuda_runtime", "cuda_driver", "Runtime"}
DEVICE_CATS = {"kernel", "gpu_memcpy", "gpu_memset", "Kernel", "Memcpy", "Memset"}
SGLANG_KIND = {"DECODE": "decode", "EXTEND": "prefill", "PREFILL": "prefill", "MIXED": "mixed"}


def load(path, window=None):
    """The complete ('X') events, sorted by start; `window`, a list, receives the record window
    (first and last timestamp of any timed event, instants such as 'Record Window End' included)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    out, lo, hi = [], None, None
    for e in events:
        if "ts" not in e or e.get("ph") in ("M", None):
            continue
        ts = float(e["ts"])
        end = ts + float(e.get("dur", 0) or 0)
        lo, hi = (ts, end) if lo is None else (min(lo, ts), max(hi, end))
        if e.get("ph") == "X":
            out.append(dict(e, ts=ts, end=end))
    out.sort(key=lambda e: (e["ts"], -e["end"]))
    if window is not None and lo is not None:
        window[:] = [lo, hi]
    return out


def half_up(num, den):
    """num / den rounded half away from zero (as Swift's `rounded()`), in integers."""
    return (2 * num + den) // (2 * den)


def parse_annotation(e):
    """Iteration fields an engine annotation names, or None when it is not one."""
    name, cat = e.get("name", ""), e.get("cat", "")
    if cat in ANNOTATION_CATS and name.lower() in ("prefill", "decode"):
        return {"kind": name.lower(), "source": name.lower()}
    m = EXECUTE_RE.match(name) if cat in ANNOTATION_CATS else None
    if m:
        _, ctx, t_sq, t_sk, gen, q_sq, q_sk = map(int, m.groups())
        kind = "mixed" if ctx and gen else ("decode" if gen else "prefill")
        kv = half_up(q_sk, gen) if gen else (half_up(t_sk or t_sq, ctx) if ctx else None)
        return {"kind": kind, "tokens": t_sq + q_sq, "batch": ctx + gen, "kvLength": kv,
                "source": "vllm execute_"}
    m = SGLANG_RE.match(name) if cat in ANNOTATION_CATS else None
    if m:
        fields = {"kind": SGLANG_KIND[m.group(1)], "source": "sglang step"}
        bs = re.search(r"bs=(\d+)", m.group(2))
        if bs:
            fields["batch"] = int(bs.group(1))
        return fields
    return None


def nest_outermost(items):
    """Groups (event, fields) by containment in time: the outermost of each group wins, nested
    ones only fill the fields it lacks."""
    groups = []
    for e, fields in sorted(items, key=lambda x: (x[0]["ts"], -x[0]["end"])):
        if groups and e["ts"] >= groups[-1]["ts"] and e["end"] <= groups[-1]["end"]:
            g = groups[-1]
            g["nested"] += 1
            if g["kind"] != fields["kind"]:
                g["conflicts"].append(f'{g["source"]} {g["kind"]} vs {fields["source"]} {fields["kind"]}')
            for k, v in fields.items():
                if g.get(k) is None:
                    g[k] = v
            continue
        groups.append(dict(fields, ts=e["ts"], end=e["end"], name=e["name"], nested=0, conflicts=[]))
    return groups


def roots(events):
    """Host events not nested inside another host event of the same pid/tid."""
    out, open_by_thread = [], {}
    for e in events:
        if e.get("cat") not in HOST_CATS:
            continue
        key = (e.get("pid"), e.get("tid"))
        top = open_by_thread.get(key)
        if top is not None and e["ts"] >= top["ts"] and e["end"] <= top["end"]:
            continue
        open_by_thread[key] = e
        out.append(e)
    return out


def repeating_unit(events):
    """Root user annotations first (record_function ranges); else the other root host events."""
    all_roots = roots(events)
    for tier in ([e for e in all_roots if e.get("cat") == "user_annotation"],
                 [e for e in all_roots if e.get("cat") != "user_annotation"]):
        found = best_repeating(tier)
        if found:
            return found
    return None


def best_repeating(candidate_roots):
    by_name = collections.defaultdict(list)
    for e in candidate_roots:
        if e["end"] > e["ts"]:
            by_name[e["name"]].append(e)
    best, candidates = None, []
    for name in sorted(by_name):
        occ = sorted(by_name[name], key=lambda e: e["ts"])
        if len(occ) < 2 or any(b["ts"] < a["end"] for a, b in zip(occ, occ[1:])):
            continue
        total = sum(e["end"] - e["ts"] for e in occ)
        candidates.append((total, name, len(occ)))
        if best is None or total > best[0]:
            best = (total, name, occ)
    candidates.sort(key=lambda c: (-c[0], c[1]))
    return best and (best[0], best[1], best[2], candidates[:3])


def find_iterations(events, window=None):
    host = [e for e in events if e.get("cat") in HOST_CATS]
    anns = [(e, f) for e in host for f in [parse_annotation(e)] if f]
    if anns:
        return "engine annotations", nest_outermost(anns)
    execs = [(e, {"kind": None, "source": "vllm execute_model"}) for e in host
             if e.get("cat") == "python_function" and e.get("name", "").endswith(": execute_model")]
    if execs:
        return "vllm execute_model", nest_outermost(execs)
    steps = [e for e in host if e.get("cat") in ANNOTATION_CATS
             and e.get("name", "").startswith("ProfilerStep#")]
    if steps:
        return "ProfilerStep#", [dict(kind=None, ts=e["ts"], end=e["end"], name=e["name"], nested=0,
                                      conflicts=[], source="ProfilerStep") for e in steps]
    unit = repeating_unit(events)
    if unit:
        others = "; ".join(f"'{n}' x{c} {t:.1f} us" for t, n, c in unit[3])
        return f"repeating unit '{unit[1]}' (largest totals: {others})", [dict(kind=None, ts=e["ts"], end=e["end"], name=e["name"],
                                                    nested=0, conflicts=[], source="repeating unit")
                                               for e in unit[2]]
    lo, hi = window or (min(e["ts"] for e in events), max(e["end"] for e in events))
    return "whole rank", [dict(kind=None, ts=lo, end=hi, name="(whole rank)", nested=0, conflicts=[],
                               source="whole rank")]


def attention_shapes(events, it):
    """(b, s, t) of the first attention op inside the iteration (outermost of a nest)."""
    for e in events:
        if e["ts"] < it["ts"]:
            continue
        if e["ts"] > it["end"]:
            break
        if e.get("name") not in ATTENTION_OPS or e["end"] > it["end"]:
            continue
        dims = (e.get("args") or {}).get("Input Dims") or []
        if len(dims) >= 2 and len(dims[0]) == 4 and len(dims[1]) == 4:
            return dims[0][0], dims[0][2], dims[1][2]
    return None


def device_spans(events, its):
    """Per iteration: the first start and last end of the device work (kernels, copies, sets)
    whose launch (a runtime event on the host) lies inside the iteration, matched by
    `correlation` (a graph launch's kernels all carry the launch's)."""
    runtime = sorted((e for e in events if e.get("cat") in RUNTIME_CATS), key=lambda e: e["ts"])
    starts = [e["ts"] for e in runtime]
    device = collections.defaultdict(list)
    for e in events:
        if e.get("cat") in DEVICE_CATS:
            device[(e.get("args") or {}).get("correlation")].append(e)
    for it in its:
        lo, hi = bisect.bisect_left(starts, it["ts"]), bisect.bisect_right(starts, it["end"])
        work = [d for r in runtime[lo:hi] for d in device.get((r.get("args") or {}).get("correlation"), [])]
        it["deviceStartUs"] = min(d["ts"] for d in work) - it["ts"] if work else None
        it["deviceEndUs"] = max(d["end"] for d in work) - it["ts"] if work else None
        it["spanUs"] = max(it["end"], max((d["end"] for d in work), default=it["end"])) - it["ts"]


def host_split(events, it):
    """On a host-timed iteration (no device work): the time of the outermost attention ops, of
    the outermost GEMM ops outside them, the rest, and the K and V bytes the attention ops read."""
    att, lin, kv, covered = 0.0, 0.0, 0, []
    for e in events:
        if e["ts"] < it["ts"] or e.get("cat") != "cpu_op" or e["end"] > it["end"]:
            if e["ts"] > it["end"]:
                break
            continue
        name = e.get("name")
        if name not in ATTENTION_OPS and name not in LINEAR_OPS:
            continue
        key = (e.get("pid"), e.get("tid"))
        if any(k == key and lo <= e["ts"] and e["end"] <= hi for k, lo, hi in covered):
            continue
        covered.append((key, e["ts"], e["end"]))
        if name in ATTENTION_OPS:
            att += e["end"] - e["ts"]
            args = e.get("args") or {}
            dims, types = args.get("Input Dims") or [], args.get("Input type") or []
            for i in (1, 2):
                if i < len(dims) and i < len(types) and types[i] in ELEMENT_BYTES:
                    n = 1
                    for x in dims[i]:
                        n *= x
                    kv += n * ELEMENT_BYTES[types[i]]
        else:
            lin += e["end"] - e["ts"]
    it["attentionUs"], it["linearUs"] = att, lin
    it["otherUs"], it["kvBytesRead"] = it["durationUs"] - att - lin, kv


def analyse(path):
    window = []
    events = load(path, window)
    rule, its = find_iterations(events, window)
    device_spans(events, its)
    for it in its:
        shapes = attention_shapes(events, it)
        it["attention"] = shapes
        if shapes:
            b, s, t = shapes
            if it.get("kind") is None:
                it["kind"] = "decode" if s == 1 else "prefill"
            if it.get("batch") is None:
                it["batch"] = b
            if it.get("tokens") is None:
                it["tokens"] = b * s
            if it.get("kvLength") is None:
                it["kvLength"] = t
        if it.get("kind") is None:
            it["kind"] = "forward"
        it["durationUs"] = it["end"] - it["ts"]
        if it["deviceEndUs"] is None:
            host_split(events, it)
    return {"file": path, "rule": rule, "iterations": its}


def summary(result):
    rows = collections.OrderedDict()
    for it in result["iterations"]:
        r = rows.setdefault(it["kind"], {"kind": it["kind"], "count": 0, "tokens": 0, "batch": set(),
                                         "kvFirst": it.get("kvLength"), "kvLast": None, "durUs": 0.0,
                                         "spanUs": 0.0,
                                         "nested": 0, "conflicts": 0})
        r["count"] += 1
        r["tokens"] += it.get("tokens") or 0
        if it.get("batch") is not None:
            r["batch"].add(it["batch"])
        r["kvLast"] = it.get("kvLength")
        r["durUs"] += it["durationUs"]
        r["spanUs"] += it["spanUs"]
        r["nested"] += it["nested"]
        r["conflicts"] += len(it["conflicts"])
    out = []
    for r in rows.values():
        r["batch"] = sorted(r["batch"])
        r["meanUs"] = r.pop("durUs") / r["count"]
        r["meanToDeviceEndUs"] = r.pop("spanUs") / r["count"]
        out.append(r)
    return out


def fmt(v):
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def print_table(result, per_iteration):
    print(f"## {result['file']}")
    print(f"rule: {result['rule']}; iterations: {len(result['iterations'])}")
    print("| kind | count | tokens | batch | kvLength first | kvLength last | mean us | mean us to device end "
          "| nested | conflicts |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in summary(result):
        batch = ",".join(map(str, r["batch"])) or "-"
        print(f"| {r['kind']} | {r['count']} | {r['tokens']} | {batch} | {fmt(r['kvFirst'])} | "
              f"{fmt(r['kvLast'])} | {r['meanUs']:.3f} | {r['meanToDeviceEndUs']:.3f} | {r['nested']} | "
              f"{r['conflicts']} |")
    if per_iteration:
        for i, it in enumerate(result["iterations"]):
            print(f"  {i:3d} {it['kind']:8s} tokens={fmt(it.get('tokens'))} batch={fmt(it.get('batch'))} "
                  f"kv={fmt(it.get('kvLength'))} dur={it['durationUs']:.3f}us toDeviceEnd={it['spanUs']:.3f}us "
                  f"device={fmt(it['deviceStartUs'])}..{fmt(it['deviceEndUs'])}us attention={it['attention']} "
                  f"split(attention/linear/other us)={fmt(it.get('attentionUs'))}/{fmt(it.get('linearUs'))}/"
                  f"{fmt(it.get('otherUs'))} kvBytesRead={fmt(it.get('kvBytesRead'))} "
                  f"name={it['name'][:60]}")
    for it in result["iterations"]:
        for c in it["conflicts"]:
            print(f"  conflict in '{it['name'][:60]}': {c}")
    print()


# ---- CUDA/HIP graphs -------------------------------------------------------------------------

def captured_launches(events):
    """Per capture window (Begin..End on one thread): the kernel launches in time order."""
    windows, begins = [], {}
    for e in events:
        name, key = e.get("name", ""), (e.get("pid"), e.get("tid"))
        if name.endswith("StreamBeginCapture"):
            begins[key] = e
        elif name.endswith("StreamEndCapture") and key in begins:
            b = begins.pop(key)
            windows.append((b, e, key))
    out = []
    for b, end, key in windows:
        launches = [e for e in events if "LaunchKernel" in e.get("name", "")
                    and (e.get("pid"), e.get("tid")) == key and b["ts"] <= e["ts"] <= end["ts"]]
        out.append({"begin": b["ts"], "end": end["ts"], "thread": key, "launches": launches})
    return out


def enclosing_op(events_by_thread, launch):
    best = None
    for e in events_by_thread.get((launch.get("pid"), launch.get("tid")), []):
        if e["ts"] > launch["ts"]:
            break
        if e["end"] >= launch["end"] and "Input Dims" in (e.get("args") or {}):
            if best is None or (e["end"] - e["ts"]) <= (best["end"] - best["ts"]):
                best = e
    return best


def graph_capture(capture_path, exec_path):
    cap, exe = load(capture_path), load(exec_path)
    windows = captured_launches(cap)
    graph_launches = [e for e in exe if e.get("name", "").endswith("GraphLaunch")]
    corr = {(e.get("args") or {}).get("correlation") for e in graph_launches}
    kernels = [e for e in exe if e.get("cat") == "kernel" and (e.get("args") or {}).get("correlation") in corr]
    kernels.sort(key=lambda e: e["ts"])
    ops_by_thread = collections.defaultdict(list)
    for e in cap:
        if e.get("cat") == "cpu_op":
            ops_by_thread[(e.get("pid"), e.get("tid"))].append(e)
    res = {"capture": capture_path, "execution": exec_path, "graphLaunches": len(graph_launches),
           "executedKernels": len(kernels), "windows": []}
    for w in windows:
        names = [(e.get("args") or {}).get("kernel") for e in w["launches"]]
        matched = sum(1 for a, b in zip(names, [k.get("name") for k in kernels]) if a == b)
        first_miss = next((i for i, (a, b) in enumerate(zip(names, [k.get("name") for k in kernels]))
                           if a != b), None)
        ops = collections.Counter()
        for e in w["launches"]:
            op = enclosing_op(ops_by_thread, e)
            ops[op["name"] if op else "(none)"] += 1
        res["windows"].append({"capturedLaunches": len(names), "withKernelName": sum(1 for n in names if n),
                               "launchApis": dict(collections.Counter(e["name"] for e in w["launches"])),
                               "matchedByPosition": matched, "firstMismatch": first_miss,
                               "enclosingOps": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))})
    return res


def print_graph(res):
    print(f"## graph capture {res['capture']}\n## execution {res['execution']}")
    print(f"graph launches in execution trace: {res['graphLaunches']}; kernels correlated: {res['executedKernels']}")
    for i, w in enumerate(res["windows"]):
        print(f"capture window {i}: launches {w['capturedLaunches']} ({w['launchApis']}), "
              f"with args.kernel {w['withKernelName']}; matched by position {w['matchedByPosition']} "
              f"of {min(w['capturedLaunches'], res['executedKernels'])}; first mismatch {w['firstMismatch']}")
        print("| enclosing cpu_op (innermost with Input Dims) | captured launches |")
        print("|---|---|")
        for name, n in w["enclosingOps"].items():
            print(f"| {name} | {n} |")
    print()


def main(argv):
    as_json = "--json" in argv
    per_iteration = "--iterations" in argv
    args = [a for a in argv if a not in ("--json", "--iterations")]
    if not args or "-h" in args or "--help" in args:
        print(__doc__)
        return 64 if not args else 0
    if args[0] == "--graph-capture":
        if len(args) != 3:
            print("--graph-capture takes CAPTURE EXEC", file=sys.stderr)
            return 64
        try:
            res = graph_capture(args[1], args[2])
        except (OSError, ValueError, KeyError) as err:
            print(f"{args[1]}, {args[2]}: {err}", file=sys.stderr)
            return 65
        print(json.dumps(res, indent=1, sort_keys=True)) if as_json else print_graph(res)
        return 0
    results = []
    for path in args:
        try:
            results.append(analyse(path))
        except (OSError, ValueError, KeyError) as err:
            print(f"{path}: {err}", file=sys.stderr)
            return 65
    if as_json:
        doc = [{"file": r["file"], "rule": r["rule"], "summary": summary(r),
                "iterations": [{k: it.get(k) for k in ("kind", "tokens", "batch", "kvLength", "durationUs",
                                                         "spanUs", "deviceStartUs", "deviceEndUs", "attentionUs",
                                                         "linearUs", "otherUs", "kvBytesRead", "name",
                                                         "source", "nested", "conflicts")}
                               for it in r["iterations"]]} for r in results]
        print(json.dumps(doc, indent=1, sort_keys=True))
    else:
        for r in results:
            print_table(r, per_iteration)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
