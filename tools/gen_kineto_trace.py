#!/usr/bin/env python3
"""Generate a Kineto-like PyTorch profiler trace of a given size, for benchmarks.

The events mirror what PyTorch 2.x writes: cpu_op spans with shapes, cuda_runtime launches
with correlation ids, kernels with launch args, ac2g flow pairs, python_function spans, NCCL
all-reduce kernels under record_param_comms, ProfilerStep annotations, [memory] instants,
float-microsecond timestamps with ns fractions, and top-level keys after traceEvents.

With --mix serial it writes the other workload of the speed goals instead: every host op
(shapes recorded) launches one kernel, kernels run back to back on one stream, each launch is
linked by an ac2g flow pair and a fifth of the kernels are NCCL all-reduces; no profiler steps,
one event per line. That mix has ~5 events per op and more flows and numbers per byte.

usage: gen_kineto_trace.py OUT.json --mb 200 [--rank 0 --world 1] [--mix steps|serial] [--gzip]
"""
import argparse, gzip, json, os, random, shutil

KERNELS = [
    "void cutlass::Kernel<cutlass_80_tensorop_s1688gemm_128x128_32x3_nn_align4>(cutlass_80_tensorop_s1688gemm_128x128_32x3_nn_align4::Params)",
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, at::detail::Array<char*, 3>)",
    "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)",
    "ampere_sgemm_128x64_tn",
    "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, 4> >(at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, 4>)",
]
OPS = ["aten::linear", "aten::addmm", "aten::add", "aten::softmax", "aten::mean", "aten::empty", "aten::view"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=200)
    ap.add_argument("--rank", type=int, default=0)
    ap.add_argument("--world", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=["steps", "serial"], default="steps")
    ap.add_argument("--gzip", action="store_true", help="also write OUT.gz")
    a = ap.parse_args()
    if a.mix == "serial":
        serial(a)
        return
    rnd = random.Random(a.seed)
    target = int(a.mb * 1e6)
    pid, tid, stream = 4242, 4242, 7
    ts = 1700000000000000.0 + a.rank * 0.0
    corr = 1000
    ext = 1
    written = 0
    step = 0
    with open(a.out, "w") as f:
        def w(s):
            nonlocal written
            f.write(s)
            written += len(s)
        w('{\n  "schemaVersion": 1,\n  "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85045870592}],\n')
        w('  "distributedInfo": {"backend": "nccl", "rank": %d, "world_size": %d},\n' % (a.rank, a.world))
        w('  "traceEvents": [\n')
        first = True
        gpu_t = ts
        while written < target:
            step_start = ts
            step_events = []
            # One step: ~2000 ops.
            for i in range(2000):
                op = OPS[i % len(OPS)]
                dur_op = round(rnd.uniform(8, 40), 3)
                t0 = round(ts, 3)
                e = '{"ph": "X", "cat": "cpu_op", "name": "%s", "pid": %d, "tid": %d, "ts": %.3f, "dur": %.3f, "args": {"External id": %d, "Record function id": 0, "Sequence number": %d, "Fwd thread id": 0, "Ev Idx": %d, "Input Dims": [[64, 1024], [1024, 1024], []], "Input type": ["float", "float", ""], "Input Strides": [[1024, 1], [1024, 1], []], "Concrete Inputs": ["", "", ""]}}' % (op, pid, tid, t0, dur_op, ext, ext, ext)
                step_events.append(e)
                py = '{"ph": "X", "cat": "python_function", "name": "torch/nn/modules/module.py(1736): _call_impl", "pid": %d, "tid": %d, "ts": %.3f, "dur": %.3f, "args": {"Python parent id": %d, "Python id": %d, "Ev Idx": %d}}' % (pid, tid, t0, dur_op + 1, ext, ext + 1, ext)
                step_events.append(py)
                if i % 2 == 0:
                    rt = round(t0 + 1.5, 3)
                    k = KERNELS[i % len(KERNELS)] if i % 97 else "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
                    if i % 97 == 0:
                        step_events.append('{"ph": "X", "cat": "cpu_op", "name": "record_param_comms", "pid": %d, "tid": %d, "ts": %.3f, "dur": %.3f, "args": {"External id": %d, "Collective name": "allreduce", "dtype": "Float", "In msg nelems": 4194304, "Out msg nelems": 4194304, "Group size": %d, "Process Group Name": "0", "Process Group Ranks": "[0]"}}' % (pid, tid, t0, dur_op, ext, a.world))
                    step_events.append('{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": %d, "tid": %d, "ts": %.3f, "dur": 4.112, "args": {"External id": %d, "cbid": 211, "correlation": %d}}' % (pid, tid, rt, ext, corr))
                    gpu_t = max(gpu_t, rt + 5) + 0.5
                    kd = round(rnd.uniform(2, 60), 3)
                    step_events.append('{"ph": "X", "cat": "kernel", "name": "%s", "pid": 0, "tid": %d, "ts": %.3f, "dur": %.3f, "args": {"External id": %d, "queued": 0, "device": 0, "context": 1, "stream": %d, "correlation": %d, "registers per thread": 128, "shared memory": 65536, "blocks per SM": 1.5, "warps per SM": 6, "grid": [132, 1, 1], "block": [256, 1, 1], "est. achieved occupancy %%": 25}}' % (k, stream, gpu_t, kd, ext, stream, corr))
                    step_events.append('{"ph": "s", "id": %d, "pid": %d, "tid": %d, "ts": %.3f, "cat": "ac2g", "name": "ac2g"}' % (corr, pid, tid, rt))
                    step_events.append('{"ph": "f", "id": %d, "pid": 0, "tid": %d, "ts": %.3f, "cat": "ac2g", "name": "ac2g", "bp": "e"}' % (corr, stream, gpu_t))
                    gpu_t += kd
                    corr += 1
                if i % 50 == 0:
                    step_events.append('{"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]", "pid": %d, "tid": %d, "ts": %.3f, "args": {"Total Reserved": 2097152000, "Total Allocated": %d, "Bytes": 262144, "Addr": 139912345, "Device Id": 0, "Device Type": 1}}' % (pid, tid, t0, 1000000 + i))
                ext += 1
                ts += dur_op + 2
            step_events.append('{"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#%d", "pid": %d, "tid": %d, "ts": %.3f, "dur": %.3f, "args": {"External id": %d}}' % (step, pid, tid, step_start, ts - step_start, ext))
            step += 1
            for e in step_events:
                w(("    " if first else ",\n    ") + e)
                first = False
        w('\n  ],\n  "traceName": "generated.json",\n  "displayTimeUnit": "ms",\n  "baseTimeNanoseconds": 1700000000000000000\n}\n')
    print("wrote %s: %.1f MB" % (a.out, os.path.getsize(a.out) / 1e6))
    if a.gzip:
        with open(a.out, "rb") as src, gzip.open(a.out + ".gz", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        print("wrote %s.gz: %.1f MB" % (a.out, os.path.getsize(a.out + ".gz") / 1e6))


SERIAL_OPS = ["aten::mm", "aten::addmm", "aten::add_", "aten::layer_norm", "aten::gelu", "aten::bmm"]
SERIAL_KERNELS = ["sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64",
                  "void at::native::vectorized_elementwise_kernel<4>", "ncclDevKernel_AllReduce_Sum_bf16_RING_LL",
                  "flash_fwd_kernel", "void at::native::reduce_kernel<512, 1>"]


def serial(a):
    """The --mix serial workload: op -> launch -> kernel on one serial stream, with flows."""
    rnd = random.Random(a.seed)
    target = int(a.mb * 1e6)
    dumps = lambda e: json.dumps(e, separators=(", ", ": "))
    with open(a.out, "w") as f:
        f.write('{"schemaVersion": 1, "distributedInfo": {"backend": "nccl", "rank": %d, "world_size": %d},\n'
                '"traceEvents": [\n' % (a.rank, a.world))
        host = 1_700_000_000_000.0
        stream_free = host
        sep = ""
        n = 0
        while f.tell() < target:
            corr = 1000 + n
            op_dur = round(rnd.uniform(5, 50), 3)
            start = max(host + 6.0, stream_free)
            dur = round(rnd.uniform(2, 60), 3)
            stream_free = start + dur + 1.0
            launch = round(host + 1.5, 3)
            events = [
                {"ph": "X", "cat": "cpu_op", "name": rnd.choice(SERIAL_OPS), "pid": 100, "tid": 100, "ts": round(host, 3),
                 "dur": op_dur, "args": {"External id": corr, "Sequence number": n, "Fwd thread id": 0,
                                         "Record function id": 0, "Input Dims": [[512, 1024], [1024, 1024]],
                                         "Input type": ["c10::BFloat16", "c10::BFloat16"], "Ev Idx": n}},
                {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 100, "tid": 100, "ts": launch,
                 "dur": 3.2, "args": {"External id": corr, "cbid": 211, "correlation": corr}},
                {"ph": "s", "id": corr, "pid": 100, "tid": 100, "ts": launch, "cat": "ac2g", "name": "ac2g"},
                {"ph": "X", "cat": "kernel", "name": rnd.choice(SERIAL_KERNELS), "pid": 0, "tid": 7,
                 "ts": round(start, 3), "dur": dur,
                 "args": {"External id": corr, "queued": 0, "device": 0, "context": 1, "stream": 7, "correlation": corr,
                          "registers per thread": 168, "shared memory": 65536, "blocks per SM": 1.5,
                          "warps per SM": 6.0, "grid": [132, 1, 1], "block": [384, 1, 1],
                          "est. achieved occupancy %": 12}},
                {"ph": "f", "id": corr, "pid": 0, "tid": 7, "ts": round(start, 3), "cat": "ac2g", "name": "ac2g",
                 "bp": "e"},
            ]
            for e in events:
                f.write(sep + dumps(e))
                sep = ",\n"
            host += op_dur + 2
            n += 1
        f.write('\n],\n"traceName": "serial", "displayTimeUnit": "ms", "baseTimeNanoseconds": 1700000000000000000}\n')
    print("wrote %s: %.1f MB, %d events" % (a.out, os.path.getsize(a.out) / 1e6, n * 5))
    if a.gzip:
        with open(a.out, "rb") as src, gzip.open(a.out + ".gz", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


if __name__ == "__main__":
    main()
