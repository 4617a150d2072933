#!/usr/bin/env python3
"""Write the small multi-rank Kineto samples bundled in Traces/ (deterministic).

They are modelled on what PyTorch 2.4 profiler writes for DDP, pipeline-parallel and
Megatron-style tensor-parallel jobs on NVIDIA GPUs (event categories, args, flow events,
metadata, float-µs timestamps with ns fractions, keys after traceEvents), but generated:
collectives end together on all ranks, one rank is a straggler, one rank's clock is skewed, and
one rank's data loader stalls, so ingest and the analyses have something to find.

usage: make_sample_traces.py [OUT_DIR=Traces/generated]
"""
import gzip, io, json, os, random, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "Traces/generated"
GEMM = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas"
ELEM = "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::BFloat16>, at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<c10::BFloat16>, at::detail::Array<char*, 3>)"
NORM = "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, float>(int, float, c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16 const*, float*, float*, c10::BFloat16*)"
ATTN = "void pytorch_flash::flash_fwd_kernel<pytorch_flash::Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, cutlass::bfloat16_t, pytorch_flash::Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, false, true, false, false, false, true, false, false>(pytorch_flash::Flash_fwd_params)"
ALLREDUCE = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
SENDRECV = "ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)"


def us(x):
    return round(x, 3)


H100 = {"name": "NVIDIA H100 80GB HBM3", "totalGlobalMem": 85045870592, "computeMajor": 9, "computeMinor": 0,
        "numSms": 132}
A100 = {"name": "NVIDIA A100-SXM4-80GB", "totalGlobalMem": 85097971712, "computeMajor": 8, "computeMinor": 0,
        "numSms": 108}


class Rank:
    def __init__(self, rank, world, skew_us=0.0, slow=1.0, device=H100, pg_config=None, nccl="2.21.5"):
        self.rank, self.world, self.skew, self.slow = rank, world, skew_us, slow
        self.pid, self.tid = 2100 + rank, 2100 + rank
        self.events, self.t, self.corr, self.ext = [], 0.0, 1, 1
        self.stream_free = {7: 0.0, 20: 0.0}
        self.device, self.nccl = device, nccl
        self.pg_config = pg_config or [{"pg_name": "0", "pg_desc": "default_pg", "backend_config": "cuda:nccl",
                                        "pg_size": world, "ranks": list(range(world))}]

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
            "deviceProperties": [dict({"id": self.rank}, **self.device)],
            "distributedInfo": {"backend": "nccl", "rank": self.rank, "world_size": world,
                                "pg_count": len(self.pg_config), "pg_config": self.pg_config,
                                "nccl_version": self.nccl},
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


# Megatron-LM on A100 (cuBLAS, flash-attn 2, Apex fused layer norm and Adam, NCCL 2.18).
MGEMM = "ampere_bf16_s16816gemm_bf16_256x128_ldg8_f2f_stages_64x3_tn"
MGEMM_NN = "ampere_bf16_s16816gemm_bf16_128x256_ldg8_f2f_stages_64x3_nn"
MGEMM_NT = "ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_stages_32x5_nt"
MFLASH = ("void flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, cutlass::bfloat16_t, "
          "Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, true, false, false, false, true, true, false>"
          "(Flash_fwd_params)")
MFLASH_BWD = ("void flash_bwd_dq_dk_dv_loop_seqk_parallel_kernel<Flash_bwd_kernel_traits<128, 64, 128, 8, 2, 4, 2, "
              "false, false, cutlass::bfloat16_t, Flash_kernel_traits<128, 64, 128, 8, cutlass::bfloat16_t> >, true, "
              "false, false, false, false, false, false>(Flash_bwd_params)")
MLN = ("void cuApplyLayerNorm<c10::BFloat16, float, c10::BFloat16>(c10::BFloat16*, float*, float*, "
       "c10::BFloat16 const*, int, int, float, c10::BFloat16 const*, c10::BFloat16 const*)")
MLN_BWD = ("void cuComputeGradInput<c10::BFloat16, float, c10::BFloat16>(c10::BFloat16 const*, c10::BFloat16 const*, "
           "int, int, float const*, float const*, float, c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16*)")
MGELU = ("void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl(at::TensorIteratorBase&, "
         "at::native::GeluType)::{lambda()#2}::operator()() const::{lambda()#4}::operator()() const::"
         "{lambda(c10::BFloat16)#1}, at::detail::Array<char*, 2> >(int, at::native::GeluCUDAKernelImpl("
         "at::TensorIteratorBase&, at::native::GeluType)::{lambda()#2}::operator()() const::{lambda()#4}::operator()() "
         "const::{lambda(c10::BFloat16)#1}, at::detail::Array<char*, 2>)")
MGELU_BWD = ("void at::native::vectorized_elementwise_kernel<4, at::native::GeluBackwardCUDAKernelImpl("
             "at::TensorIteratorBase&, at::native::GeluType)::{lambda()#2}::operator()() const::{lambda()#4}::"
             "operator()() const::{lambda(c10::BFloat16, c10::BFloat16)#1}, at::detail::Array<char*, 3> >(int, "
             "at::native::GeluBackwardCUDAKernelImpl(at::TensorIteratorBase&, at::native::GeluType)::{lambda()#2}::"
             "operator()() const::{lambda()#4}::operator()() const::{lambda(c10::BFloat16, c10::BFloat16)#1}, "
             "at::detail::Array<char*, 3>)")
MEMBED = ("void at::native::(anonymous namespace)::indexSelectLargeIndex<c10::BFloat16, long, unsigned int, 2, 2, -2, "
          "true>(at::cuda::detail::TensorInfo<c10::BFloat16, unsigned int>, at::cuda::detail::TensorInfo<c10::BFloat16, "
          "unsigned int>, at::cuda::detail::TensorInfo<long, unsigned int>, int, int, unsigned int, unsigned int, long)")
MEMBED_BWD = ("void at::native::(anonymous namespace)::embedding_backward_feature_kernel<c10::BFloat16, float, long>"
              "(long const*, c10::BFloat16 const*, c10::BFloat16*, int, long, int, int)")
MMAX = ("void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::MaxOps<float>, unsigned int, "
        "float, 4> >(at::native::ReduceOp<float, at::native::MaxOps<float>, unsigned int, float, 4>)")
MSOFTMAX = ("void at::native::vectorized_elementwise_kernel<4, at::native::exp_kernel_cuda(at::TensorIteratorBase&)::"
            "{lambda()#1}::operator()() const::{lambda()#2}::operator()() const::{lambda(float)#1}, "
            "at::detail::Array<char*, 2> >(int, at::native::exp_kernel_cuda(at::TensorIteratorBase&)::{lambda()#1}::"
            "operator()() const::{lambda()#2}::operator()() const::{lambda(float)#1}, at::detail::Array<char*, 2>)")
MFILL = ("void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, at::detail::Array<char*, 1> >"
         "(int, at::native::FillFunctor<float>, at::detail::Array<char*, 1>)")
ML2NORM = ("void multi_tensor_apply_kernel<TensorListMetadata<1>, L2NormFunctor<float, 512, 8, 1, 0>, float*, float*, "
           "float*, int, int>(long, int volatile*, TensorListMetadata<1>, L2NormFunctor<float, 512, 8, 1, 0>, float*, "
           "float*, float*, int, int)")
MADAM = ("void multi_tensor_apply_kernel<TensorListMetadata<4>, AdamFunctor<float>, float, float, float, float, float, "
         "float, adamMode_t, float>(long, int volatile*, TensorListMetadata<4>, AdamFunctor<float>, float, float, float, "
         "float, float, float, adamMode_t, float)")
MAR_BF16 = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL128(ncclDevKernelArgsStorage<4096ul>)"
MAR_F32 = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
MAR_MAX = "ncclDevKernel_AllReduce_Max_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
MBCAST = "ncclDevKernel_Broadcast_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
DATALOADER = "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__"


class TPJob:
    """One Megatron-LM step on a tensor-parallel group: every rank runs the same program, host
    ops issue kernels in order, NCCL kernels run on stream 20 and the compute stream waits for
    the synchronous ones (an event wait), all members of a collective end together."""

    SEQ, HIDDEN, TP, VOCAB = 2048, 5120, 8, 50304
    BUS_GBPS = 230.0  # NCCL ring bus bandwidth on 8 × A100 NVLink 3

    def __init__(self, world, rnd, pg):
        self.world, self.rnd, self.pg = world, rnd, pg
        self.ranks = [Rank(r, world, device=A100, pg_config=pg, nccl="2.18.5") for r in range(world)]
        self.h = [0.0] * world
        self.corr_wait = {}

    def op(self, name, kernel, kdur_us, op_dur=14.0, dims=None, types=None, stream=7):
        """A host op that launches one kernel, on every rank."""
        for r, R in enumerate(self.ranks):
            t = self.h[r]
            args = {"Input Dims": dims or [[1, self.SEQ, self.HIDDEN]], "Input type": types or ["c10::BFloat16"]}
            R.cpu(name, t, op_dur, args=args)
            c, start = R.launch(kernel, t + 3.0, 0, stream=stream)
            start = max(start, R.stream_free[stream])
            R.kernel(kernel, c, start, kdur_us * self.rnd.uniform(0.985, 1.015), stream=stream)
            self.h[r] = t + op_dur + 1.5

    def backward_op(self, fn, ops):
        """`autograd::engine::evaluate_function: <fn>` enclosing kernel-launching children."""
        starts = list(self.h)
        for name, kernel, kdur in ops:
            self.op(name, kernel, kdur, op_dur=11.0)
        for r, R in enumerate(self.ranks):
            R.cpu("autograd::engine::evaluate_function: " + fn, starts[r] - 0.5, self.h[r] - starts[r] + 1.0)
            self.h[r] += 1.0

    def collective(self, op, kernel, nelems, dtype="BFloat16", wait=True, elem_bytes=2):
        """A TP-group collective on stream 20 after the compute stream's last kernel; with `wait`,
        the compute stream waits for it (synchronous all-reduce), else the caller waits later."""
        args = {"Collective name": op, "dtype": dtype, "In msg nelems": nelems, "Out msg nelems": nelems,
                "Group size": self.world, "Process Group Name": "1",
                "Process Group Description": "TENSOR_MODEL_PARALLEL_GROUP",
                "Process Group Ranks": str(list(range(self.world))), "In split size": "[]", "Out split size": "[]",
                "Global rank start": 0, "Global rank stride": 1}
        arrivals = []
        for r, R in enumerate(self.ranks):
            t = self.h[r]
            R.cpu("record_param_comms", t, 24.0, args=args)
            R.cpu("nccl:%s" % op, t + 1.0, 22.0, cat="user_annotation",
                  args={"Input Dims": [[nelems]], "Input type": ["c10::" + dtype]})
            c, start = R.launch(kernel, t + 5.0, 0, stream=20)
            arrivals.append((R, c, max(start, R.stream_free[7])))
            self.h[r] = t + 26.0
        nbytes = nelems * elem_bytes
        factor = 2.0 * (self.world - 1) / self.world if op == "allreduce" else 1.0
        transfer = 6.0 + factor * nbytes / (self.BUS_GBPS * 1e3)  # µs
        end = max(a[2] for a in arrivals) + transfer
        for R, c, start in arrivals:
            R.kernel(kernel, c, start, end - start, stream=20, extra=dict(args))
            if wait:
                R.stream_free[7] = max(R.stream_free[7], end)
        return end

    def wait_for(self, end):
        for R in self.ranks:
            R.stream_free[7] = max(R.stream_free[7], end)

    def get_batch(self, loader_us):
        """TP rank 0 reads the batch (its data loader range), copies it to the GPU and broadcasts
        it to the group; the other ranks only broadcast."""
        R0 = self.ranks[0]
        t = self.h[0]
        R0.cpu(DATALOADER, t, loader_us, cat="user_annotation")
        t += loader_us + 2.0
        R0.cpu("aten::to", t, 30.0, args={"Input Dims": [[1, self.SEQ]], "Input type": ["long int"]})
        R0.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaMemcpyAsync", "pid": R0.pid, "tid": R0.tid,
                          "ts": R0.ts(t + 6.0), "dur": 9.7, "args": {"External id": R0.ext, "cbid": 41,
                                                                       "correlation": R0.corr}})
        start = max(R0.stream_free[7], t + 12.0)
        R0.events.append({"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pinned -> Device)", "pid": 0,
                          "tid": 7, "ts": R0.ts(start), "dur": 4.2,
                          "args": {"External id": R0.ext, "device": 0, "context": 1, "stream": 7,
                                   "correlation": R0.corr, "bytes": 49152, "memory bandwidth (GB/s)": 11.7}})
        R0.corr += 1
        R0.ext += 1
        R0.stream_free[7] = start + 4.2
        self.h[0] = t + 32.0
        end = self.collective("broadcast", MBCAST, 3 * self.SEQ, dtype="Long", elem_bytes=8)
        for r in range(self.world):
            self.h[r] += 3.0
        return end

    def layer_forward(self):
        H, S, T = self.HIDDEN, self.SEQ, self.TP
        self.op("FusedLayerNormAffineFunction", MLN, 26.0, dims=[[S, 1, H], [H], [H]])
        self.op("aten::mm", MGEMM, 205.0, dims=[[S, H], [H, 3 * H // T]])
        self.op("flash_attn::_flash_attn_forward", MFLASH, 88.0, dims=[[1, S, 40 // T, 128]] * 3)
        self.op("aten::mm", MGEMM, 70.0, dims=[[S, H // T], [H // T, H]])
        self.collective("allreduce", MAR_BF16, S * H)
        self.op("aten::add", ELEM, 24.0, dims=[[S, 1, H], [S, 1, H]])
        self.op("FusedLayerNormAffineFunction", MLN, 26.0, dims=[[S, 1, H], [H], [H]])
        self.op("aten::mm", MGEMM, 272.0, dims=[[S, H], [H, 4 * H // T]])
        self.op("aten::gelu", MGELU, 34.0, dims=[[S, 1, 4 * H // T]])
        self.op("aten::mm", MGEMM, 270.0, dims=[[S, 4 * H // T], [4 * H // T, H]])
        self.collective("allreduce", MAR_BF16, S * H)
        self.op("aten::add", ELEM, 24.0, dims=[[S, 1, H], [S, 1, H]])

    def column_parallel_backward(self, fn, dgrad, wgrad):
        """Megatron's LinearWithGradAccumulationAndAsyncCommunication: dgrad, the input-gradient
        all-reduce started asynchronously, wgrad overlapping it, then a wait."""
        start = list(self.h)
        self.op("aten::mm", MGEMM_NN, dgrad, op_dur=11.0)
        end = self.collective("allreduce", MAR_BF16, self.SEQ * self.HIDDEN, wait=False)
        self.op("aten::mm", MGEMM_NT, wgrad, op_dur=11.0)
        self.wait_for(end)
        for r, R in enumerate(self.ranks):
            R.cpu("autograd::engine::evaluate_function: " + fn, start[r] - 0.5, self.h[r] - start[r] + 1.0)
            self.h[r] += 1.0

    def layer_backward(self):
        fn = "LinearWithGradAccumulationAndAsyncCommunicationBackward"
        self.backward_op("AddBackward0", [("aten::add", ELEM, 24.0)])
        self.backward_op(fn, [("aten::mm", MGEMM_NN, 268.0), ("aten::mm", MGEMM_NT, 276.0)])
        self.backward_op("GeluBackward0", [("aten::gelu_backward", MGELU_BWD, 52.0)])
        self.column_parallel_backward(fn, 270.0, 275.0)
        self.backward_op("FusedLayerNormAffineFunctionBackward", [("aten::empty_like", MLN_BWD, 48.0)])
        self.backward_op(fn, [("aten::mm", MGEMM_NN, 69.0), ("aten::mm", MGEMM_NT, 72.0)])
        self.backward_op("FlashAttnFuncBackward", [("flash_attn::_flash_attn_backward", MFLASH_BWD, 232.0)])
        self.column_parallel_backward(fn, 204.0, 210.0)
        self.backward_op("FusedLayerNormAffineFunctionBackward", [("aten::empty_like", MLN_BWD, 48.0)])

    def microbatch(self, loader_us, layers):
        S, H, V = self.SEQ, self.HIDDEN, self.VOCAB // self.TP
        self.get_batch(loader_us)
        self.op("aten::embedding", MEMBED, 38.0, dims=[[V, H], [1, S]], types=["c10::BFloat16", "long int"])
        self.collective("allreduce", MAR_BF16, S * H)
        for _ in range(layers):
            self.layer_forward()
        self.op("FusedLayerNormAffineFunction", MLN, 26.0)
        self.op("aten::mm", MGEMM, 660.0, dims=[[S, H], [H, V]])
        self.op("aten::max", MMAX, 41.0, dims=[[S, 1, V]], types=["float"])
        self.collective("allreduce", MAR_MAX, S, dtype="Float", elem_bytes=4)
        self.op("aten::exp", MSOFTMAX, 58.0, dims=[[S, 1, V]], types=["float"])
        self.collective("allreduce", MAR_F32, 2 * S, dtype="Float", elem_bytes=4)
        self.backward_op("_VocabParallelCrossEntropyBackward", [("aten::sub", ELEM, 57.0)])
        self.column_parallel_backward("LinearWithGradAccumulationAndAsyncCommunicationBackward", 655.0, 668.0)
        for _ in range(layers):
            self.layer_backward()
        self.backward_op("EmbeddingBackward0", [("aten::embedding_dense_backward", MEMBED_BWD, 95.0)])

    def optimizer(self):
        """Gradient norm (L2 norm, an all-reduce over the model-parallel group, `.item()`), then
        Apex FusedAdam."""
        self.op("aten::zeros", MFILL, 3.0, op_dur=9.0, types=["float"])
        self.op("aten::_foreach_norm", ML2NORM, 310.0, op_dur=20.0, types=["float"])
        self.collective("allreduce", MAR_F32, 1, dtype="Float", elem_bytes=4)
        for r, R in enumerate(self.ranks):
            t = self.h[r]
            start = max(R.stream_free[7], t + 10.0)
            sync_start = t + 14.0
            sync_end = max(sync_start + 2.0, start + 1.9 + 3.5)
            R.cpu("aten::item", t, sync_end + 2.0 - t, args={"Input Dims": [[]], "Input type": ["float"]})
            R.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaMemcpyAsync", "pid": R.pid, "tid": R.tid,
                             "ts": R.ts(t + 4.0), "dur": 8.3, "args": {"External id": R.ext, "cbid": 41,
                                                                          "correlation": R.corr}})
            R.events.append({"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy DtoH (Device -> Pinned)", "pid": R.rank,
                             "tid": 7, "ts": R.ts(start), "dur": 1.9,
                             "args": {"External id": R.ext, "device": R.rank, "context": 1, "stream": 7,
                                      "correlation": R.corr, "bytes": 4, "memory bandwidth (GB/s)": 0.002}})
            R.corr += 1
            R.stream_free[7] = start + 1.9
            R.events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamSynchronize", "pid": R.pid,
                             "tid": R.tid, "ts": R.ts(sync_start), "dur": us(sync_end - sync_start),
                             "args": {"External id": R.ext, "cbid": 131, "correlation": R.corr}})
            R.corr += 1
            R.ext += 1
            self.h[r] = sync_end + 4.0
        opt = list(self.h)
        for _ in range(3):
            self.op("aten::_fused_adam_", MADAM, 420.0, op_dur=24.0, types=["float"])
        for r, R in enumerate(self.ranks):
            R.cpu("Optimizer.step#FusedAdam.step", opt[r] - 1.0, self.h[r] - opt[r] + 2.0, cat="user_annotation")
            self.h[r] += 6.0


def megatron(out):
    """8-rank Megatron-LM step, tensor parallel 8 (GPT 13B shapes, 4 layers, 2 micro-batches of
    2048 tokens) on A100s: per layer two TP all-reduces in forward and two, overlapped with the
    weight-gradient GEMM, in backward; TP rank 0 reads each batch and broadcasts it, and its data
    loader stalls 38 ms on the first micro-batch while the other ranks wait in the broadcast."""
    world = 8
    pg = [{"pg_name": "0", "pg_desc": "default_pg", "backend_config": "cuda:nccl", "pg_size": world,
           "ranks": list(range(world))},
          {"pg_name": "1", "pg_desc": "TENSOR_MODEL_PARALLEL_GROUP", "backend_config": "cuda:nccl", "pg_size": world,
           "ranks": list(range(world))}]
    job = TPJob(world, random.Random(12), pg)
    entry = [100.0 + job.rnd.uniform(0, 40) for _ in range(world)]
    job.h = list(entry)
    for R in job.ranks:
        R.stream_free = {7: 0.0, 20: 0.0}
    for mb, loader_us in enumerate([38000.0, 260.0]):
        job.microbatch(loader_us, layers=4)
    job.optimizer()
    for r, R in enumerate(job.ranks):
        R.cpu("ProfilerStep#12", entry[r], job.h[r] + 20.0 - entry[r], cat="user_annotation")
    write(out, "megatron-tp8", job.ranks, world, gz=True)


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


def write(out, name, ranks, world, gz=False):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for R in ranks:
        R.events.sort(key=lambda e: (e["ts"], e.get("ph") != "X"))
        path = os.path.join(d, "rank%d.pt.trace.json" % R.rank)
        text = json.dumps(R.document(world), indent=1) + "\n"
        if gz:
            # No file name and mtime 0 in the gzip header: the bytes depend on the content only.
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as f:
                f.write(text.encode())
            with open(path + ".gz", "wb") as f:
                f.write(buf.getvalue())
        else:
            with open(path, "w") as f:
                f.write(text)
    print("wrote", d)


if __name__ == "__main__":
    ddp(OUT)
    pipeline(OUT)
    megatron(OUT)
    comm_bound(OUT)
