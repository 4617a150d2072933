#!/usr/bin/env python3
"""Capture one small GPT trained in five parallel layouts on CPU (gloo): validation data for
`reprise whatif --parallel` and `reprise plan`.

The model is a GPT-like decoder in plain PyTorch: token + learned position embeddings, LAYERS
pre-LN blocks (LayerNorm; causal self-attention with a fused QKV Linear(h, 3h), PyTorch's
scaled_dot_product_attention(is_causal=True) on (batch, heads, seq, headDim) and an output
Linear(h, h); LayerNorm; MLP Linear(h, 4h) + GELU + Linear(4h, h)), a final LayerNorm and an LM
head Linear(h, vocab) without bias (as GPT-2; Reprise's ModelSpec counts none). Cross-entropy on
seeded random tokens, AdamW, everything fp32. Every layout trains the same GLOBAL_BATCH sequences
per optimizer step from the same initial weights (the first-step losses, written to
measured.json, agree to fp32 rounding):

    single      1 process, batch G
    dp2         2 processes, DistributedDataParallel on a group "DATA_PARALLEL_GROUP", G/2 each
    tp2         2 processes, Megatron tensor parallel written by hand on a group
                "TENSOR_MODEL_PARALLEL_GROUP": QKV and MLP-up column-parallel (heads/2 per
                rank), attention-out and MLP-down row-parallel, with the f (identity forward,
                all-reduce backward) and g (all-reduce forward, identity backward) operators:
                2 all-reduces of b·s·h fp32 forward and 2 backward per block; embeddings,
                LayerNorms and LM head replicated; each rank sees the whole batch G
    pp2-gpipe   2 processes, torch.distributed.pipelining on a group
    pp2-1f1b    "PIPELINE_MODEL_PARALLEL_GROUP", stage 0 = embeddings + LAYERS/2 blocks, stage 1 =
                LAYERS/2 blocks + final LayerNorm + head + loss, ScheduleGPipe / Schedule1F1B,
                MICROBATCHES micro-batches of G/MICROBATCHES

One intra-op thread per process (torch.set_num_threads(1)). Each layout: WARMUP steps, then
STEPS optimizer steps timed with perf_counter outside the profiler (a barrier before each step
on 2-process layouts; a layout's step time is the max over its ranks), then PROFILED steps under
torch.profiler (CPU activity, record_shapes, one profiler warm-up step, ProfilerStep#N
annotations). The layouts run interleaved (single, dp2, tp2, pp2-gpipe, pp2-1f1b, single, …)
REPEATS times to spread machine noise over all of them; the traces kept are those of the LAST
repetition. Finally a 2-process gloo all-reduce sweep (1 KiB … 32 MiB and the model's gradient
size, median of several) measures the loopback link. Writes:

    OUT/<layout>/rank{N}.pt.trace.json.gz     (gzip -9 -n)
    OUT/measured.json                         step times per layout and repetition, in-profile
                                              step times per rank, the all-reduce sweep
    OUT/gpt-tiny.json                         the model as a Reprise ModelSpec (--model)
    OUT/cpu-gloo-loopback.json                a Reprise cluster spec (--cluster) whose
                                              intraNodeGBps/nicGBps are the measured ring
                                              all-reduce bus bandwidth at the gradient size
                                              and latencyUs half the 1 KiB all-reduce

usage: capture_parallel.py OUT [--layouts single,dp2,tp2,pp2-gpipe,pp2-1f1b] [--repeats 3]
                           [--steps 8] [--profiled 3] [--hidden 256] [--heads 4] [--layers 4]
                           [--seq 100] [--vocab 1000] [--global-batch 8] [--microbatches 4]
       capture_parallel.py OUT --specs-only   (rewrite the two spec files from OUT/measured.json)

Needs torch (CPU build; with a CUDA build hide the GPUs with CUDA_VISIBLE_DEVICES=). See
Traces/kineto-cpu/README.md for the captured set, the command and the measured table.
"""
import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

LAYOUTS = {
    "single": dict(dp=1, tp=1, pp=1, world=1, schedule=None),
    "dp2": dict(dp=2, tp=1, pp=1, world=2, schedule=None),
    "tp2": dict(dp=1, tp=2, pp=1, world=2, schedule=None),
    "pp2-gpipe": dict(dp=1, tp=1, pp=2, world=2, schedule="GPipe"),
    "pp2-1f1b": dict(dp=1, tp=1, pp=2, world=2, schedule="1F1B"),
}
GROUP_DESC = {"dp2": "DATA_PARALLEL_GROUP", "tp2": "TENSOR_MODEL_PARALLEL_GROUP",
              "pp2-gpipe": "PIPELINE_MODEL_PARALLEL_GROUP", "pp2-1f1b": "PIPELINE_MODEL_PARALLEL_GROUP"}


def build_model(args):
    """The full model, seeded: (stage0, stage1) halves whose composition is the GPT."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Attention(nn.Module):
        def __init__(self, h, heads):
            super().__init__()
            self.heads, self.qkv, self.proj = heads, nn.Linear(h, 3 * h), nn.Linear(h, h)

        def attend(self, x):
            b, s, _ = x.shape
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            q, k, v = (t.view(b, s, self.heads, -1).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return y.transpose(1, 2).reshape(b, s, -1)

        def forward(self, x):
            return self.proj(self.attend(x))

    class MLP(nn.Module):
        def __init__(self, h):
            super().__init__()
            self.up, self.down = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)

        def forward(self, x):
            return self.down(F.gelu(self.up(x)))

    class Block(nn.Module):
        def __init__(self, h, heads):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(h), Attention(h, heads)
            self.ln2, self.mlp = nn.LayerNorm(h), MLP(h)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class Stage0(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(args.vocab, args.hidden)
            self.pos = nn.Embedding(args.seq, args.hidden)
            self.blocks = nn.ModuleList(Block(args.hidden, args.heads) for _ in range(args.layers // 2))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            return x

    class Stage1(nn.Module):
        def __init__(self):
            super().__init__()
            n = args.layers - args.layers // 2
            self.blocks = nn.ModuleList(Block(args.hidden, args.heads) for _ in range(n))
            self.ln_f = nn.LayerNorm(args.hidden)
            self.head = nn.Linear(args.hidden, args.vocab, bias=False)  # as GPT-2; ModelSpec counts none

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    torch.manual_seed(0)
    return Stage0(), Stage1()


def make_tp(stage0, stage1, rank, tp, group):
    """Shard every block of the full model for tensor-parallel rank `rank` of `tp` in place."""
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F

    class CopyToTP(torch.autograd.Function):  # f: identity forward, all-reduce backward
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            g = g.contiguous()
            dist.all_reduce(g, group=group)
            return g

    class ReduceFromTP(torch.autograd.Function):  # g: all-reduce forward, identity backward
        @staticmethod
        def forward(ctx, x):
            x = x.contiguous()
            dist.all_reduce(x, group=group)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class RowParallel(nn.Module):
        """y = g(x_local @ W_local^T) + b: the bias is added once, after the all-reduce."""

        def __init__(self, full, lo, hi):
            super().__init__()
            self.weight = nn.Parameter(full.weight.detach()[:, lo:hi].clone())
            self.bias = nn.Parameter(full.bias.detach().clone())

        def forward(self, x):
            return ReduceFromTP.apply(F.linear(x, self.weight)) + self.bias

    class ColumnParallel(nn.Module):
        """This rank's output features: f(x) @ W[rows]^T + b[rows]."""

        def __init__(self, full, rows):
            super().__init__()
            self.weight = nn.Parameter(full.weight.detach()[rows].clone())
            self.bias = nn.Parameter(full.bias.detach()[rows].clone())

        def forward(self, x):
            return F.linear(CopyToTP.apply(x), self.weight, self.bias)

    def shard(block):
        h = block.ln1.normalized_shape[0]
        a, m = block.attn, block.mlp
        w, f = h // tp, m.up.out_features // tp
        qkv_rows = [i for part in range(3) for i in range(part * h + rank * w, part * h + (rank + 1) * w)]
        a.heads //= tp
        a.qkv = ColumnParallel(a.qkv, qkv_rows)
        a.proj = RowParallel(a.proj, rank * w, (rank + 1) * w)
        m.up = ColumnParallel(m.up, list(range(rank * f, (rank + 1) * f)))
        m.down = RowParallel(m.down, rank * f, (rank + 1) * f)

    for b in list(stage0.blocks) + list(stage1.blocks):
        shard(b)


def batch(args):
    import torch
    g = torch.Generator().manual_seed(1234)
    data = torch.randint(args.vocab, (args.global_batch, args.seq + 1), generator=g)
    return data[:, :-1].contiguous(), data[:, 1:].contiguous()


def worker(rank, layout, args, port, tmp, out_dir):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile, schedule as prof_schedule

    torch.set_num_threads(1)
    spec = LAYOUTS[layout]
    world = spec["world"]
    group = None
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
        group = dist.new_group(list(range(world)), group_desc=GROUP_DESC[layout])
    stage0, stage1 = build_model(args)
    x, y = batch(args)
    V = args.vocab

    def loss_fn(logits, target):
        return F.cross_entropy(logits.reshape(-1, V), target.reshape(-1))

    losses = []
    if spec["pp"] > 1:
        from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe
        module = stage0 if rank == 0 else stage1
        stage = PipelineStage(module, rank, world, torch.device("cpu"), group=group)
        cls = ScheduleGPipe if spec["schedule"] == "GPipe" else Schedule1F1B
        schedule = cls(stage, n_microbatches=args.microbatches, loss_fn=loss_fn)
        params = list(module.parameters())

        def forward_backward():
            if rank == 0:
                schedule.step(x)
            else:
                out = []
                schedule.step(target=y, losses=out)
                losses.append(float(sum(l.item() for l in out) / len(out)))
    else:
        model = nn.Sequential(stage0, stage1)
        if spec["tp"] > 1:
            make_tp(stage0, stage1, rank, spec["tp"], group)
        inp, tgt = x, y
        if spec["dp"] > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            n = args.global_batch // spec["dp"]
            inp, tgt = x[rank * n:(rank + 1) * n], y[rank * n:(rank + 1) * n]
            model = DDP(model, process_group=group)
        params = list(model.parameters())

        def forward_backward():
            loss = loss_fn(model(inp), tgt)
            loss.backward()
            losses.append(loss.item())

    opt = torch.optim.AdamW(params, lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        forward_backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    timed = []
    for _ in range(args.steps):
        if world > 1:
            dist.barrier()
        t0 = time.perf_counter()
        step()
        timed.append((time.perf_counter() - t0) * 1e3)
    if world > 1:
        dist.barrier()
    profiled = []
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=prof_schedule(wait=0, warmup=1, active=args.profiled, repeat=1)) as prof:
        for i in range(args.profiled + 1):
            t0 = time.perf_counter()
            step()
            if i > 0:
                profiled.append((time.perf_counter() - t0) * 1e3)
            prof.step()
    path = os.path.join(out_dir, layout)
    os.makedirs(path, exist_ok=True)
    raw = os.path.join(tmp, "%s-rank%d.json" % (layout, rank))
    prof.export_chrome_trace(raw)
    with open(raw, "rb") as src, open(os.path.join(path, "rank%d.pt.trace.json.gz" % rank), "wb") as dst:
        dst.write(gzip.compress(src.read(), compresslevel=9, mtime=0))
    os.remove(raw)
    result = dict(timedMs=timed, profiledMs=profiled, firstLoss=losses[0] if losses else None,
                  params=sum(p.numel() for p in params))
    with open(os.path.join(tmp, "%s-rank%d.result.json" % (layout, rank)), "w") as f:
        json.dump(result, f)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def sweep_worker(rank, args, port, tmp, grad_bytes):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    sizes = sorted(set([1024 << (2 * i) for i in range(8)] + [grad_bytes]))  # 1 KiB … 16 MiB, ×4
    sizes = sorted(set(sizes + [32 << 20]))
    rows = []
    # A training step meets its collectives right after compute, not after a barrier: the
    # "afterCompute" mode runs the same fixed matmul (about 2 ms) on both ranks before each
    # all-reduce, without a barrier, so the time includes waking gloo's threads and the ranks'
    # skew, as a tensor-parallel layer sees it. "idle" is the classic barrier-then-all-reduce.
    a, b = torch.randn(256, 1024), torch.randn(1024, 256)
    for n in sizes:
        t = torch.ones(n // 4)
        for _ in range(2):
            dist.all_reduce(t)
        reps = 20 if n <= (1 << 20) else 11
        row = dict(bytes=n, repeats=reps)
        for mode in ("idle", "afterCompute"):
            times = []
            for _ in range(reps):
                if mode == "idle":
                    dist.barrier()
                else:
                    for _ in range(4):
                        torch.mm(a, b)
                t0 = time.perf_counter()
                dist.all_reduce(t)
                times.append(time.perf_counter() - t0)
            times = torch.tensor(times)
            dist.all_reduce(times, op=dist.ReduceOp.MAX)  # an all-reduce ends when its slowest rank does
            med = statistics.median(times.tolist())
            key = "" if mode == "idle" else "AfterCompute"
            row["medianUs" + key] = round(med * 1e6, 1)
            row["minUs" + key] = round(min(times.tolist()) * 1e6, 1)
            # ring all-reduce over n ranks: busbw = algbw × 2(n-1)/n (nccl-tests), = algbw for 2 ranks
            row["busGBps" + key] = round(n / med / 1e9 * 2 * (2 - 1) / 2, 4)
        rows.append(row)
    if rank == 0:
        with open(os.path.join(tmp, "sweep.json"), "w") as f:
            json.dump(rows, f)
    dist.barrier()
    dist.destroy_process_group()


def summarize(samples):
    return dict(medianMs=round(statistics.median(samples), 2), minMs=round(min(samples), 2),
                maxMs=round(max(samples), 2))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def model_spec(args):
    return {
        "name": "gpt-tiny",
        "source": "tools/capture_parallel.py: the GPT-like decoder of Traces/kineto-cpu/gpt-parallel "
                  "(pre-LN, fused QKV, GELU MLP, learned positions, untied LM head, biases)",
        "layers": args.layers, "hidden": args.hidden, "heads": args.heads, "kvHeads": args.heads,
        "headDim": args.hidden // args.heads, "ffn": 4 * args.hidden, "ffnType": "plain",
        "vocab": args.vocab, "tiedEmbeddings": False, "norm": "layernorm", "bias": True,
        "learnedPositions": args.seq,
    }


def write_specs(out, measured):
    """Writes OUT/gpt-tiny.json and OUT/cpu-gloo-loopback.json from what measured.json holds."""
    with open(os.path.join(out, "gpt-tiny.json"), "w") as f:
        json.dump(measured["model"], f, indent=2)
        f.write("\n")
    gloo = measured["glooAllReduce"]
    at_grad = gloo["atGradientBytes"]
    # Hockney's model fitted to the after-compute medians by least squares: a 2-rank ring
    # all-reduce takes 2(n-1) = 2 steps of latency α plus S·2(n-1)/n / busbw = S / busbw.
    rows = [r for r in gloo["sweep"] if "medianUsAfterCompute" in r]
    xs = [r["bytes"] for r in rows]
    ys = [r["medianUsAfterCompute"] * 1e-6 for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    intercept = max(0.0, my - slope * mx)
    gbps = round(1 / slope / 1e9, 4)
    alpha = round(intercept / 2 * 1e6, 1)
    cluster = {
        "name": "cpu-gloo-loopback",
        "source": "measured by `%s` (torch %s): 2-process gloo all-reduce on 127.0.0.1 right after a "
                  "fixed matmul on each rank (as a training step meets it), median of %d to %d per size "
                  "from %d to %d bytes; intraNodeGBps, nicGBps and latencyUs: Hockney's model "
                  "t = 2(n-1)·alpha + S/busbw fitted by least squares" % (
                      measured["command"], measured["torch"], min(r["repeats"] for r in rows),
                      max(r["repeats"] for r in rows), min(xs), max(xs)),
        "gpusPerNode": 2,
        "nodes": [{"name": "loopback", "count": 1, "intraNodeGBps": gbps, "nicGBps": gbps}],
        "latencyUs": alpha,
    }
    with open(os.path.join(out, "cpu-gloo-loopback.json"), "w") as f:
        json.dump(cluster, f, indent=2)
        f.write("\n")
    print("all-reduce fit after compute: bus %.3f GB/s, latency %.1f us a step; idle at %d bytes: %.1f us" % (
        gbps, alpha, at_grad["bytes"], at_grad["medianUs"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--profiled", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    # 100 tokens and a vocabulary of 1000 keep every size distinct (tokens per micro-batch 800,
    # 400, 200; widths 256, 768, 1024 and their halves; 1000), so reading the shapes has no tie.
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--global-batch", type=int, default=8)
    ap.add_argument("--microbatches", type=int, default=4)
    ap.add_argument("--port", type=int, default=29610)
    ap.add_argument("--specs-only", action="store_true",
                    help="measure nothing: rewrite OUT's gpt-tiny.json and cpu-gloo-loopback.json "
                         "from OUT/measured.json")
    args = ap.parse_args()
    if args.specs_only:
        with open(os.path.join(args.out, "measured.json")) as f:
            write_specs(args.out, json.load(f))
        return
    layouts = args.layouts.split(",")
    unknown = [l for l in layouts if l not in LAYOUTS]
    if unknown or args.global_batch % 2 or args.global_batch % args.microbatches or args.heads % 2:
        sys.exit("bad arguments: unknown layouts %s, or G not divisible by 2 and M, or heads odd" % unknown)
    import torch
    import torch.multiprocessing as mp
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="capture-parallel-")
    results = {l: dict(repeats=[], profiledMs={}, firstLoss=None) for l in layouts}
    port = args.port
    params = None
    for r in range(args.repeats):
        for layout in layouts:
            port += 1
            world = LAYOUTS[layout]["world"]
            mp.spawn(worker, args=(layout, args, port, tmp, args.out), nprocs=world, join=True)
            per_rank = []
            for rank in range(world):
                with open(os.path.join(tmp, "%s-rank%d.result.json" % (layout, rank))) as f:
                    per_rank.append(json.load(f))
            steps = [max(t) for t in zip(*(p["timedMs"] for p in per_rank))]
            rep = dict(stepsMs=[round(s, 2) for s in steps], **summarize(steps))
            results[layout]["repeats"].append(rep)
            results[layout]["profiledMs"] = {str(k): [round(s, 2) for s in p["profiledMs"]]
                                             for k, p in enumerate(per_rank)}
            # the mean over the ranks that compute a loss: dp2's halves give the global batch's mean
            first = [p["firstLoss"] for p in per_rank if p["firstLoss"] is not None]
            results[layout]["firstLoss"] = sum(first) / len(first)
            if layout in ("single", "dp2"):
                params = per_rank[0]["params"]
            print("repeat %d %-10s step ms median %.1f [%.1f–%.1f]  first loss %.5f" % (
                r + 1, layout, rep["medianMs"], rep["minMs"], rep["maxMs"], results[layout]["firstLoss"]),
                flush=True)
    if params is None:
        stage0, stage1 = build_model(args)
        params = sum(p.numel() for p in list(stage0.parameters()) + list(stage1.parameters()))
    grad_bytes = 4 * params
    port += 1
    mp.spawn(sweep_worker, args=(args, port, tmp, grad_bytes), nprocs=2, join=True)
    with open(os.path.join(tmp, "sweep.json")) as f:
        sweep = json.load(f)
    shutil.rmtree(tmp)
    at_grad = next(row for row in sweep if row["bytes"] == grad_bytes)
    command = "python3 tools/capture_parallel.py " + " ".join(sys.argv[1:])
    layout_rows = []
    for layout in layouts:
        spec = LAYOUTS[layout]
        res = results[layout]
        all_steps = [s for rep in res["repeats"] for s in rep["stepsMs"]]
        layout_rows.append(dict(
            name=layout, dp=spec["dp"], tp=spec["tp"], pp=spec["pp"], ranks=spec["world"],
            schedule=spec["schedule"], globalBatch=args.global_batch,
            microbatches=args.microbatches if spec["pp"] > 1 else 1,
            perRankBatch=args.global_batch // spec["dp"], processGroup=GROUP_DESC.get(layout),
            firstLoss=round(res["firstLoss"], 5),
            overall=dict(medianOfRepeatMediansMs=round(statistics.median(r["medianMs"] for r in res["repeats"]), 2),
                         **summarize(all_steps)),
            repeats=res["repeats"], profiledStepsMsPerRank=res["profiledMs"]))
    measured = {
        "schema": "reprise.capture.gpt-parallel", "version": 1,
        "command": command, "torch": torch.__version__, "python": platform.python_version(),
        "machine": "%s, %d logical CPUs, %s" % (platform.machine(), os.cpu_count(), cpu_name()),
        "model": model_spec(args), "parameters": params, "gradientBytes": grad_bytes,
        "sequenceLength": args.seq, "globalBatch": args.global_batch,
        "warmupSteps": args.warmup, "timedSteps": args.steps, "profiledSteps": args.profiled,
        "repeats": args.repeats, "tracesFrom": "the last repetition",
        "stepTime": "perf_counter around zero_grad + forward + backward + optimizer step, outside the "
                    "profiler, after a barrier; the max over the layout's ranks",
        "layouts": layout_rows,
        "glooAllReduce": dict(ranks=2, backend="gloo", busBandwidth="algbw × 2(n-1)/n (nccl-tests)",
                              sweep=sweep, atGradientBytes=at_grad),
    }
    with open(os.path.join(args.out, "measured.json"), "w") as f:
        json.dump(measured, f, indent=1)
        f.write("\n")
    write_specs(args.out, measured)


if __name__ == "__main__":
    main()
