#!/usr/bin/env python3
"""Write the small multi-rank Kineto samples bundled in Traces/ (deterministic).

They are modelled on what PyTorch 2.4 profiler writes for DDP and pipeline-parallel jobs on
NVIDIA GPUs (event categories, args, flow events, metadata, float-µs timestamps with ns
fractions, keys after traceEvents), but generated: collectives end together on all ranks,
one rank is a straggler, and one rank's clock is skewed, so ingest has something to find.

usage: make_sample_traces.py [OUT_DIR=Traces/generated]
"""
import json, os, random, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "Traces/generated"
GEMM = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas"
ELEM = "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::BFloat16>, at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<c10::BFloat16>, at::detail::Array<char*, 3>)"
NORM = "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, float>(int, float, c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16 const*, float*, float*, c10::BFloat16*)"
ATTN = "void pytorch_flash::flash_fwd_kernel<pytorch_flash::Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, cutlass::bfloat16_t, pytorch_flash::Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, false, true, false, false, false, true, false, false>(pytorch_flash::Flash_fwd_params)"
ALLREDUCE = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
SENDRECV = "ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)"


def us(x):
    return round(x, 3)


class Rank:
    def __init__(self, rank, world, skew_us=0.0, slow=1.0):
        self.rank, self.world, self.skew, self.slow = rank, world, skew_us, slow
        self.pid, self.tid = 2100 + rank, 2100 + rank
        self.events, self.t, self.corr, self.ext = [], 0.0, 1, 1
        self.stream_free = {7: 0.0, 20: 0.0}

    def ts(self, t):
        return us(1212075000000.0 + t + self.skew)

    def cpu(self, name, t, dur, cat="cpu_op", args=None):
        a = {"External id": self.ext, "Record function id": 0, "Ev Idx": len(self.events)}
        if args:
            a.update(args)
        self.ext += 1
        self.events.append({"ph": "X", "cat": cat, "name": name, "pid": self.pid, "tid": self.tid,
                            "ts": self.ts(t), "dur": us(dur), "args": a})

    def launch(self, kernel, t, dur, stream=7, extra=None):
        """cudaLaunchKernel at host time t; kernel runs when the stream is free."""
        c = self.corr
        self.corr += 1
        self.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": self.pid,
                            "tid": self.tid, "ts": self.ts(t), "dur": 3.912,
                            "args": {"External id": self.ext, "cbid": 211, "correlation": c}})
        self.events.append({"ph": "s", "id": c, "pid": self.pid, "tid": self.tid, "ts": self.ts(t),
                            "cat": "ac2g", "name": "ac2g"})
        start = max(self.stream_free[stream], t + 4.5)
        return c, start

    def kernel(self, name, c, start, dur, stream=7, extra=None):
        args = {"External id": self.ext, "queued": 0, "device": self.rank, "context": 1, "stream": stream,
                "correlation": c, "registers per thread": 168, "shared memory": 213504,
                "blocks per SM": 1, "warps per SM": 4, "grid": [132, 1, 1], "block": [384, 1, 1],
                "est. achieved occupancy %": 6}
        if extra:
            args.update(extra)
        self.events.append({"ph": "X", "cat": "kernel", "name": name, "pid": self.rank, "tid": stream,
                            "ts": self.ts(start), "dur": us(dur), "args": args})
        self.events.append({"ph": "f", "id": c, "pid": self.rank, "tid": stream, "ts": self.ts(start),
                            "cat": "ac2g", "name": "ac2g", "bp": "e"})
        self.stream_free[stream] = start + dur

    # Shapes consistent with the kernel times on an H100 (GEMM ~67% of the bf16 peak, attention
    # ~37%, layer norm and add ~50-90% of HBM bandwidth), so a roofline of the samples is plausible.
    SHAPES = {
        "aten::linear": ([[4, 1536, 4096], [4096, 4096]], ["c10::BFloat16", "c10::BFloat16"]),
        "aten::_scaled_dot_product_flash_attention": ([[4, 32, 1536, 128]] * 3, ["c10::BFloat16"] * 3),
        "aten::native_layer_norm": ([[4, 1536, 4096], [4096], [4096], [4096]], ["c10::BFloat16"] * 4),
        "aten::add": ([[4, 1536, 1024], [4, 1536, 1024], []], ["c10::BFloat16", "c10::BFloat16", "Scalar"]),
    }

    def compute(self, name, kernel, t, kdur, op_dur=14.0):
        dims, types = self.SHAPES.get(name, ([[4, 1536, 4096]], ["c10::BFloat16"]))
        self.cpu(name, t, op_dur, args={"Input Dims": dims, "Input type": types})
        c, start = self.launch(kernel, t + 3.0, kdur)
        self.kernel(kernel, c, start, kdur * self.slow)
        return t + op_dur + 1.0

    def document(self, world):
        meta = [
            {"name": "process_name", "ph": "M", "ts": self.ts(0), "pid": self.pid, "tid": 0, "args": {"name": "python3"}},
            {"name": "process_labels", "ph": "M", "ts": self.ts(0), "pid": self.pid, "tid": 0, "args": {"labels": "CPU"}},
            {"name": "process_name", "ph": "M", "ts": self.ts(0), "pid": self.rank, "tid": 0, "args": {"name": "python3"}},
            {"name": "process_labels", "ph": "M", "ts": self.ts(0), "pid": self.rank, "tid": 0, "args": {"labels": "GPU %d" % self.rank}},
            {"name": "thread_name", "ph": "M", "ts": self.ts(0), "pid": self.pid, "tid": self.tid, "args": {"name": "thread %d (python3)" % self.tid}},
            {"name": "thread_name", "ph": "M", "ts": self.ts(0), "pid": self.rank, "tid": 7, "args": {"name": "stream 7 "}},
            {"name": "thread_name", "ph": "M", "ts": self.ts(0), "pid": self.rank, "tid": 20, "args": {"name": "stream 20 "}},
        ]
        return {
            "schemaVersion": 1,
            "deviceProperties": [{"id": self.rank, "name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85045870592,
                                  "computeMajor": 9, "computeMinor": 0, "numSms": 132}],
            "distributedInfo": {"backend": "nccl", "rank": self.rank, "world_size": world, "pg_count": 1,
                                "pg_config": [{"pg_name": "0", "pg_desc": "default_pg", "backend_config": "cuda:nccl",
                                               "pg_size": world, "ranks": list(range(world))}], "nccl_version": "2.21.5"},
            "record_shapes": 1,
            "traceEvents": self.events + meta,
            "traceName": "rank%d.pt.trace.json" % self.rank,
            "displayTimeUnit": "ms",
            "baseTimeNanoseconds": 1732000000000000000,
        }


def ddp(out):
    """4-rank DDP: forward/backward per step, gradient buckets all-reduced on stream 20.
    Rank 2 computes 25% slower (a straggler); rank 3's clock runs 180 µs ahead."""
    world = 4
    ranks = [Rank(r, world, skew_us=180.0 if r == 3 else 0.0, slow=1.25 if r == 2 else 1.0) for r in range(world)]
    rnd = random.Random(7)
    layer_costs = [(GEMM, 310.0), (ATTN, 420.0), (NORM, 35.0), (ELEM, 22.0)] * 6
    t_step = 50.0
    for step in range(2):
        step_len = [0.0] * world
        pending = []  # (bucket, [(rank, corr, launch_t)])
        host_t = [t_step + rnd.uniform(0, 3) for _ in ranks]
        for r, R in enumerate(ranks):
            t = host_t[r]
            for k, cost in layer_costs:
                op = {GEMM: "aten::linear", ATTN: "aten::_scaled_dot_product_flash_attention", NORM: "aten::native_layer_norm"}.get(k, "aten::add")
                t = R.compute(op, k, t, cost * rnd.uniform(0.97, 1.03))
            host_t[r] = t
        # backward with 3 gradient buckets
        for bucket in range(3):
            arrivals = []
            for r, R in enumerate(ranks):
                t = host_t[r]
                for k, cost in layer_costs[:8]:
                    t = R.compute("autograd::engine::evaluate_function: AddmmBackward0", k, t, 1.9 * cost * rnd.uniform(0.97, 1.03))
                nelems = [25165824, 33554432, 16777216][bucket]
                args = {"Collective name": "allreduce", "dtype": "BFloat16", "In msg nelems": nelems,
                        "Out msg nelems": nelems, "Group size": world, "Process Group Name": "0",
                        "Process Group Description": "default_pg", "Process Group Ranks": str(list(range(world))),
                        "In split size": "[]", "Out split size": "[]", "Global rank start": 0, "Global rank stride": 1}
                R.cpu("record_param_comms", t, 22.0, args=args)
                R.cpu("nccl:all_reduce", t + 1.0, 20.0, cat="user_annotation", args={"Input Dims": [[nelems]], "Input type": ["c10::BFloat16"]})
                c, start = R.launch(ALLREDUCE, t + 4.0, 0, stream=20)
                start = max(start, R.stream_free[7])  # waits for the gradients (event wait)
                arrivals.append((r, c, start, args))
                host_t[r] = t + 24.0
            nbytes = arrivals[0][3]["In msg nelems"] * 2
            transfer = 2 * (world - 1) / world * nbytes / 180e3  # µs at ~180 GB/s bus bandwidth
            end = max(a[2] for a in arrivals) + transfer
            for r, c, start, args in arrivals:
                ranks[r].kernel(ALLREDUCE, c, start, end - start, stream=20, extra=dict(args))
        for r, R in enumerate(ranks):
            t = max(host_t[r], R.stream_free[20]) + 5.0
            sync_start = host_t[r] + 2.0
            R.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamSynchronize", "pid": R.pid, "tid": R.tid,
                             "ts": R.ts(sync_start), "dur": us(max(R.stream_free[20], R.stream_free[7]) + 3.0 - sync_start),
                             "args": {"External id": R.ext, "cbid": 131, "correlation": R.corr}})
            R.corr += 1
            t = max(R.stream_free[20], R.stream_free[7]) + 6.0
            R.cpu("Optimizer.step#AdamW.step", t, 180.0, cat="user_annotation")
            for _ in range(4):
                t = R.compute("aten::_foreach_add_", ELEM, t, 30.0)
            R.events.append({"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]", "pid": R.pid, "tid": R.tid,
                             "ts": R.ts(t), "args": {"Total Reserved": 42949672960, "Total Allocated": 30064771072 + step * 1024,
                                                      "Bytes": 1024, "Addr": 140000000000, "Device Id": r, "Device Type": 1}})
            step_len[r] = t + 200.0 - t_step
        end_step = t_step + max(step_len)
        for r, R in enumerate(ranks):
            R.cpu("ProfilerStep#%d" % (step + 3), t_step, end_step - t_step, cat="user_annotation")
            R.stream_free = {7: end_step, 20: end_step}
        t_step = end_step + 40.0
    write(out, "ddp-4rank", ranks, world)


def pipeline(out):
    """2-stage pipeline (GPipe-style, 4 micro-batches): activations sent 0→1, gradients 1→0
    over a 2-rank process group with NCCL SendRecv kernels."""
    world = 2
    ranks = [Rank(r, world) for r in range(world)]
    rnd = random.Random(11)
    fwd, bwd = 900.0, 1700.0
    nelems = 8 * 2048 * 4096
    comm = nelems * 2 / 40e3

    def p2p(R, t, op, peer):
        args = {"Collective name": op, "dtype": "BFloat16", "In msg nelems": nelems, "Out msg nelems": nelems,
                "Group size": 2, "Process Group Name": "1", "Process Group Description": "pp_group",
                "Process Group Ranks": "[0, 1]", "Global rank start": 0, "Global rank stride": 1}
        R.cpu("record_param_comms", t, 18.0, args=args)
        R.cpu("nccl:%s" % op, t + 1.0, 16.0, cat="user_annotation", args={"Input Dims": [[8, 2048, 4096]], "Input type": ["c10::BFloat16"]})
        c, start = R.launch(SENDRECV, t + 3.0, 0, stream=20)
        return c, max(start, R.stream_free[7]), args

    t = 100.0
    h = [t, t]
    # forward: stage 0 computes mb i, sends; stage 1 receives, computes
    recv_ready = []
    for mb in range(4):
        h[0] = ranks[0].compute("## forward stage0 ##", GEMM, h[0], fwd * rnd.uniform(0.98, 1.02), op_dur=20.0)
        c0, s0, a0 = p2p(ranks[0], h[0], "send", 1)
        c1, s1, a1 = p2p(ranks[1], max(h[1], h[0] - 50), "recv", 0)
        start = max(s0, s1)
        end = start + comm
        ranks[0].kernel(SENDRECV, c0, s0, end - s0, stream=20, extra=a0)
        ranks[1].kernel(SENDRECV, c1, s1, end - s1, stream=20, extra=a1)
        ranks[1].stream_free[7] = max(ranks[1].stream_free[7], end)
        h[0] += 22.0
        h[1] = max(h[1], h[0] - 50) + 22.0
        h[1] = ranks[1].compute("## forward stage1 ##", GEMM, h[1], fwd * rnd.uniform(0.98, 1.02), op_dur=20.0)
    for mb in range(4):
        h[1] = ranks[1].compute("## backward stage1 ##", GEMM, h[1], bwd * rnd.uniform(0.98, 1.02), op_dur=20.0)
        c1, s1, a1 = p2p(ranks[1], h[1], "send", 0)
        c0, s0, a0 = p2p(ranks[0], max(h[0], h[1] - 40), "recv", 1)
        start = max(s0, s1)
        end = start + comm
        ranks[1].kernel(SENDRECV, c1, s1, end - s1, stream=20, extra=a1)
        ranks[0].kernel(SENDRECV, c0, s0, end - s0, stream=20, extra=a0)
        ranks[0].stream_free[7] = max(ranks[0].stream_free[7], end)
        h[1] += 22.0
        h[0] = max(h[0], h[1] - 40) + 22.0
        h[0] = ranks[0].compute("## backward stage0 ##", GEMM, h[0], bwd * rnd.uniform(0.98, 1.02), op_dur=20.0)
    end = max(R.stream_free[s] for R in ranks for s in (7, 20)) + 50.0
    for R in ranks:
        R.cpu("ProfilerStep#0", 90.0, end - 90.0, cat="user_annotation")
    write(out, "pipeline-2rank", ranks, world)


def comm_bound(out):
    """4-rank data parallel whose step is bound by communication: a little compute, then one large
    gradient all-reduce (128 Mi bf16 elements) over a slow ~25 GB/s bus that nothing overlaps.
    No straggler: the ranks arrive within a few µs of each other."""
    world = 4
    ranks = [Rank(r, world) for r in range(world)]
    rnd = random.Random(13)
    nelems = 128 * 1024 * 1024
    t_step = 50.0
    for step in range(2):
        arrivals = []
        for r, R in enumerate(ranks):
            t = t_step + rnd.uniform(0, 2)
            for k, cost in [(GEMM, 310.0), (ELEM, 22.0)] * 3:
                op = "aten::linear" if k == GEMM else "aten::add"
                t = R.compute(op, k, t, cost * rnd.uniform(0.99, 1.01))
            args = {"Collective name": "allreduce", "dtype": "BFloat16", "In msg nelems": nelems,
                    "Out msg nelems": nelems, "Group size": world, "Process Group Name": "0",
                    "Process Group Description": "default_pg", "Process Group Ranks": str(list(range(world))),
                    "In split size": "[]", "Out split size": "[]", "Global rank start": 0, "Global rank stride": 1}
            R.cpu("record_param_comms", t, 22.0, args=args)
            c, start = R.launch(ALLREDUCE, t + 4.0, 0, stream=20)
            arrivals.append((r, c, max(start, R.stream_free[7]), args, t + 24.0))
        transfer = 2 * (world - 1) / world * nelems * 2 / 25e3  # µs at 25 GB/s bus bandwidth
        end = max(a[2] for a in arrivals) + transfer
        for r, c, start, args, host in arrivals:
            R = ranks[r]
            R.kernel(ALLREDUCE, c, start, end - start, stream=20, extra=dict(args))
            R.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamSynchronize", "pid": R.pid,
                             "tid": R.tid, "ts": R.ts(host), "dur": us(end + 2.0 - host),
                             "args": {"External id": R.ext, "cbid": 131, "correlation": R.corr}})
            R.corr += 1
            t = end + 6.0
            R.cpu("Optimizer.step#SGD.step", t, 60.0, cat="user_annotation")
            t = R.compute("aten::_foreach_add_", ELEM, t + 1.0, 30.0)
        step_end = max(R.stream_free[7] for R in ranks) + 20.0
        for R in ranks:
            R.cpu("ProfilerStep#%d" % (step + 1), t_step, step_end - t_step, cat="user_annotation")
            R.stream_free = {7: step_end, 20: step_end}
        t_step = step_end + 40.0
    write(out, "comm-bound-4rank", ranks, world)


def write(out, name, ranks, world):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for R in ranks:
        R.events.sort(key=lambda e: (e["ts"], e.get("ph") != "X"))
        with open(os.path.join(d, "rank%d.pt.trace.json" % R.rank), "w") as f:
            json.dump(R.document(world), f, indent=1)
            f.write("\n")
    print("wrote", d)


if __name__ == "__main__":
    ddp(OUT)
    pipeline(OUT)
    comm_bound(OUT)
