#!/usr/bin/env python3
"""Writes the committed fuzz seed corpora (Fuzz/Seeds/<target>/): small, valid slices of real traces.

    python3 tools/fuzz_seeds.py [--corpus DIR]

Slices come from the bundled traces in Traces/, the specs in Models/, and, when --corpus names
the public trace corpus (laid out <source>/<path in the source repository>, as
REPRISE_TRACE_CORPUS), from the public repositories' test data listed in SOURCES below. Every
seed is a whole, valid file of its format (a few KB): the first events of a trace plus, for
Kineto, a few kernels with their launches and flows. Deterministic: the same inputs give the
same bytes. Shard seeds are written by `reprise shard` from Kineto seeds (needs .build/debug/reprise).
"""
import argparse
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "Fuzz", "Seeds")
LIMIT = 4096  # bytes per sliced seed, about

# Public-corpus files: (seed name, path in the corpus). The seed name says the public origin.
KINETO = [
    ("hta-cpu_only", "hta/tests/data/cpu_only/rank-34.Jul_15_10_52_41.1074.pt.trace.json.gz"),
    ("hta-amd-mi250", "hta/tests/data/amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz"),
    ("hta-call_stack", "hta/tests/data/call_stack/backward_thread.json"),
    ("hta-event_sync", "hta/tests/data/critical_path/cuda_event_sync/event_sync_trace.json.gz"),
    ("hta-event_sync_multi_stream",
     "hta/tests/data/critical_path/cuda_event_sync_multi_stream/event_sync_trace.json.gz"),
    ("hta-alexnet", "hta/tests/data/critical_path/alexnet/benchmark_result_2869224_1695835535_trace.json.gz"),
    ("hta-cupti_profiler", "hta/tests/data/cupti_profiler/benchmark_result_924719_1679055439_trace.json.gz"),
    ("hta-large_integer", "hta/tests/data/large_integer_trace/rank-70.Mar_25_20_48_12.2861.pt.trace.json.gz"),
    ("hta-rank_non_gpu", "hta/tests/data/rank_non_gpu/rank_non_gpu.json.gz"),
    ("hta-rank_not_found", "hta/tests/data/rank_unavailable/rank_not_found.json.gz"),
    ("hta-nccl_data", "hta/tests/data/nccl_parser_config/nccl_data.json.gz"),
    ("hta-mtia_inference", "hta/tests/data/mtia_inference_trace/mtia_inference_rank_0.json.gz"),
    ("hta-ns_resolution", "hta/tests/data/ns_resolution_trace/rank-0.Apr_03_18_51_38.1102.pt.trace.json.gz"),
    ("hta-sampled_rank-1", "hta/tests/data/trace_filter/sampled_rank-1.json.gz"),
    ("hta-inference_rank_1", "hta/tests/data/trace_file_list/inference_rank_1.json.gz"),
    ("hta-triton_example", "hta/tests/data/triton_example/triton_example.json.gz"),
    ("hta-gpu_user_annotation", "hta/tests/data/with_gpu_user_annotation/step_based_trace_2543932.json.gz"),
    ("kineto-docs-after_fix", "kineto/docs/traces/after_fix_trace.json"),
    ("kineto-tb_plugin-resnet50", "kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.pt.trace.json.gz"),
    ("param-dlrm_kineto-worker0",
     "param/et_replay/tests/inputs/dlrm_kineto.tar.gz.d/dlrm_kineto/worker0_step_12.1694128201545.pt.trace.json"),
    ("perfetto-flow_events_v1", "perfetto/test/trace_processor/diff_tests/parser/parsing/flow_events_json_v1.json"),
    ("perfetto-flow_events_v2", "perfetto/test/trace_processor/diff_tests/parser/parsing/flow_events_json_v2.json"),
    ("tracelens-b200-eager", "tracelens/tests/traces/b200/eager_trace.json.gz"),
    ("tracelens-mi300-resnet", "tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz"),
    ("tracelens-sglang_decode", "tracelens/tests/traces/inference/sglang_decode/sglang_Qwen3-8B_decode.json.gz"),
    ("tracelens-torch_compile_triton", "tracelens/tests/traces/torch_compile_triton/trace.json.gz"),
    ("tracelens-mi210-gpu_only", "tracelens/tests/traces/mi210/gpu_only_trace/gpu_only_trace.json.gz"),
]
HOST_ET = [
    ("param-dlrm_eg_0", "param/et_replay/tests/inputs/dlrm_pytorch_et.tar.gz.d/dlrm_pytorch_et/dlrm_eg_0.json"),
    ("param-resnet_1gpu_et", "param/et_replay/tests/inputs/1.0.3-chakra.0.0.4/resnet_1gpu_et.json.gz"),
    ("param-resnet_2gpu_et", "param/et_replay/tests/inputs/1.1.0-chakra.0.0.4/resnet_2gpu_et.json.gz"),
    ("param-linear_et", "param/et_replay/tests/inputs/linear_et.json.gz"),
    ("param-pt2_et", "param/et_replay/tests/inputs/pt2_et.json.tar.gz.d/pt2_et.json"),
    ("hta-simple_add_et", "hta/tests/data/execution_trace/benchmark_simple_add_et.json.gz"),
    ("chakra-1.0.2-chakra.0.0.4", "chakra/tests/data/1.0.2-chakra.0.0.4.tgz.d/1.0.2-chakra.0.0.4.json"),
    ("astra-sim-dlrm_eg_0_plus", "astra-sim/branch-24S_HML_FP/my_test/inputs/workload/et_plus/dlrm_eg_0_plus.json"),
]
CHAKRA_JSON = [
    ("chakra-small_chakra.0", "chakra/tests/data/json_trace.tar.gz.d/jsonData/small_chakra.0.json"),
    ("chakra-chakra.0", "chakra/tests/data/json_trace.tar.gz.d/jsonData/chakra.0.json"),
]
CHAKRA_ET = [
    ("astra-sim-all_reduce.0", "astra-sim/examples/workload/microbenchmarks/all_reduce/8npus_1MB/all_reduce.0.et"),
    ("astra-sim-all_reduce.1", "astra-sim/examples/workload/microbenchmarks/all_reduce/8npus_1MB/all_reduce.1.et"),
    ("astra-sim-all_to_all.0", "astra-sim/examples/workload/microbenchmarks/all_to_all/4npus_1MB/all_to_all.0.et"),
    ("astra-sim-custom_allreduce.0",
     "astra-sim/examples/system/custom_collectives/custom_ring_allreduce_8npus_1MB/custom_allreduce.0.et"),
    ("astra-sim-custom_allreduce.5",
     "astra-sim/examples/system/custom_collectives/custom_ring_allreduce_8npus_1MB/custom_allreduce.5.et"),
    ("astra-sim-legacy-resnet50_DataParallel.0",
     "astra-sim/history-f5d4ddd/runs/example/workload/resnet50_DataParallel.0.et"),
    ("chakra-feeder_tests-chakra.0", "chakra/tests/data/feeder_tests_trace.tar.gz.d/tests/data/chakra.0.et"),
    ("chakra-history-chakra.0", "chakra/history-e84ec82/tests/data/chakra.0.et"),
]
GZIP = ["hta-cpu_only", "hta-nccl_data", "tracelens-b200-eager", "param-dlrm_kineto-worker0"]
KNOBS = [
    ["compute.scale=0.5", "compute.gemm.scale=0.8", "compute.attention.scale=0.7"],
    ["compute.elementwise.scale=2", "compute.reduction.scale=1.5", "compute.other.scale=1"],
    ["kernel.match=^nccl.*AllReduce,scale=0.5", "comm.scale=2"],
    ["link.intra.bandwidth=300GB/s", "link.inter.bandwidth=25GB/s", "link.latency=5us"],
    ["rank.3.slowdown=1.5", "host.launch=4us"],
    ["comm.algorithm=hierarchical", "dp.degree=8", "dp.backup=1"],
    ["pg.0.scale=2", "pg.0.bandwidth=100GB/s", "pg.0.degree=4"],
    ["serve.context=4096", "serve.batch=16", "serve.kv-dtype=fp8", "serve.prefix=512"],
    ["serve.swap=8,block=16", "serve.parallel-encoding=2", "serve.offload=weights:0.5,kv:0.25"],
    ["serve.speculative=4,0.7,draft=llama-3.1-8b,on=h100-sxm5-80gb"],
]


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def dump(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def fit(doc, key, events, limit=LIMIT):
    """The document with as many of `events` (in order) under `key` as fit in `limit` bytes (at least 1)."""
    out = dict(doc)
    kept = []
    for e in events:
        out[key] = kept + [e]
        if kept and len(dump(out)) > limit:
            break
        kept.append(e)
    out[key] = kept
    return out


def slice_kineto(data):
    doc = json.loads(data)
    if isinstance(doc, list):
        doc = {"traceEvents": doc}
    events = doc.get("traceEvents", [])
    for k, v in list(doc.items()):  # drop bulky metadata, keep its first entries
        if k != "traceEvents" and isinstance(v, list):
            doc[k] = v[:2]
    meta = [e for e in events if e.get("ph") == "M"][:6]
    gpu = [e for e in events if e.get("cat") in ("kernel", "Kernel", "gpu_memcpy", "gpu_memset")][:3]
    ids = {(e.get("args") or {}).get("correlation") for e in gpu} - {None}
    linked = [e for e in events if e not in gpu and e.get("ph") != "M"
              and ((e.get("args") or {}).get("correlation") in ids or e.get("id") in ids)]
    rest = [e for e in events if e.get("ph") != "M" and e not in gpu and e not in linked]
    return dump(fit(doc, "traceEvents", meta + gpu + linked[:9] + rest))


def slice_nodes(data, key):
    doc = json.loads(data)
    return dump(fit(doc, key, doc.get(key, [])))


def varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def slice_et(data):
    """The first length-prefixed messages (metadata, then nodes) of a Chakra .et that fit."""
    i = 0
    while i < len(data):
        n, j = varint(data, i)
        if j + n > len(data) or (i > 0 and j + n > LIMIT):
            break
        i = j + n
    return data[:i]


def write(target, name, data):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()


def bundled():
    """Kineto seeds from Traces/: one rank of each bundled set."""
    out = []
    for top in ("generated", "kineto-cpu", "public"):
        base = os.path.join(ROOT, "Traces", top)
        for name in sorted(os.listdir(base)):
            folder = os.path.join(base, name)
            if not os.path.isdir(folder):
                continue
            files = sorted(f for dirpath, _, fs in os.walk(folder) for f in
                           (os.path.join(dirpath, x) for x in fs) if ".json" in f)
            for f in files[:1]:
                try:
                    out.append(("traces-" + top + "-" + name, slice_kineto(read(f))))
                except (ValueError, KeyError):
                    pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="the public trace corpus (as REPRISE_TRACE_CORPUS)")
    args = ap.parse_args()
    shutil.rmtree(SEEDS, ignore_errors=True)
    kineto = bundled()
    corpus = args.corpus
    have = lambda p: corpus and os.path.exists(os.path.join(corpus, p))
    for name, path in KINETO:
        if have(path):
            kineto.append((name, slice_kineto(read(os.path.join(corpus, path)))))
    for name, data in kineto:
        write("FuzzKineto", name + ".json", data)
    for name, data in kineto:
        if name in GZIP or name.startswith("traces-kineto-cpu"):
            write("FuzzGzip", name + ".json.gz", gz(data))
    for name, path in HOST_ET:
        if have(path):
            data = slice_nodes(read(os.path.join(corpus, path)), "nodes")
            write("FuzzHostET", name + ".json", data)
            if name == "param-dlrm_eg_0":
                write("FuzzGzip", name + ".json.gz", gz(data))
    for name, path in CHAKRA_JSON:
        if have(path):
            write("FuzzChakraJSON", name + ".json", slice_nodes(read(os.path.join(corpus, path)), "workload_graph"))
    for name, path in CHAKRA_ET:
        if have(path):
            write("FuzzChakraET", name + ".et", slice_et(read(os.path.join(corpus, path))))
    for kind in ("hardware", "models", "clusters"):
        for f in sorted(os.listdir(os.path.join(ROOT, "Models", kind))):
            write("FuzzSpecs", kind + "-" + f, read(os.path.join(ROOT, "Models", kind, f)))
    for i, knobs in enumerate(KNOBS):
        write("FuzzKnobs", "knobs-%d.txt" % i, ("\n".join(knobs) + "\n").encode())
    shards(kineto)


def shards(kineto):
    reprise = os.path.join(ROOT, ".build", "debug", "reprise")
    if not os.path.exists(reprise):
        print("no .build/debug/reprise: shard seeds not written", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in kineto[:12]:
            src = os.path.join(tmp, name + ".json")
            with open(src, "wb") as f:
                f.write(data)
            out = os.path.join(tmp, name)
            # Relative names: a shard records its source as named, and the seeds stay the same bytes.
            r = subprocess.run([reprise, "shard", name + ".json", "-o", name], capture_output=True, cwd=tmp)
            made = sorted(os.listdir(out)) if r.returncode == 0 and os.path.isdir(out) else []
            for m in made[:1]:
                write("FuzzShard", name + ".rshard", read(os.path.join(out, m)))


if __name__ == "__main__":
    main()
