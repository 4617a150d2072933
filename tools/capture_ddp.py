#!/usr/bin/env python3
"""Capture a small data-parallel (DDP) PyTorch profiler trace on CPU (gloo), one file per rank.

WORLD ranks on 127.0.0.1 each hold a replica of a small MLP (LAYERS × Linear(HIDDEN, HIDDEN) +
ReLU) wrapped in DistributedDataParallel over gloo. The DDP bucket cap is tiny, so every
parameter tensor (a weight and a bias per layer) is its own gradient bucket: 2 × LAYERS
all-reduces per rank per step (12 with the default 6 layers). After two warm-up steps outside
the profile, the profiler records STEPS training steps (forward, MSE loss, backward with the
all-reduces, SGD step), with shapes:

    OUT/rank0.pt.trace.json … OUT/rank{WORLD-1}.pt.trace.json

Each step's wall time per rank (ms, measured around the step with perf_counter) is printed,
not written beside the traces.

usage: capture_ddp.py OUT [--world 4] [--hidden 512] [--layers 6] [--batch 64] [--steps 3]
                        [--rank-batch RANK=BATCH …]

`--rank-batch 1=128` gives rank 1 twice the batch of the others: a straggler whose compute
(matrix products, activations) takes about twice as long, for checking what-if predictions
against a measured run.

Needs torch; with a CUDA build, hide the GPUs (CUDA_VISIBLE_DEVICES=) for a CPU-only run. One
intra-op thread per rank (torch.set_num_threads(1)); give each rank about three cores (its main
thread and two gloo worker threads) or the ranks mostly wait for a core. See
Traces/kineto-cpu/README.md for what such traces hold (gloo worker threads, no wait event).
"""
import argparse
import os
import time


def run(rank, world, args, out_dir):
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.profiler import ProfilerActivity, profile, schedule as prof_schedule

    torch.manual_seed(0)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    h = args.hidden
    layers = []
    for _ in range(args.layers):
        layers += [torch.nn.Linear(h, h), torch.nn.ReLU()]
    # A bucket cap below one bias (2 KiB): one gradient bucket (one all-reduce) per parameter tensor.
    model = DDP(torch.nn.Sequential(*layers), bucket_cap_mb=args.bucket_mb)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    gen = torch.Generator().manual_seed(rank)
    batch = dict(args.rank_batch).get(rank, args.batch)
    x = torch.randn(batch, h, generator=gen)
    y = torch.randn(batch, h, generator=gen)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(2):  # warm-up outside the profile (DDP rebuilds its buckets after the first)
        step()
    dist.barrier()
    times = []
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=prof_schedule(wait=0, warmup=1, active=args.steps, repeat=1)) as prof:
        for _ in range(args.steps + 1):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
            prof.step()
    os.makedirs(out_dir, exist_ok=True)
    prof.export_chrome_trace(os.path.join(out_dir, "rank%d.pt.trace.json" % rank))
    print("rank %d batch %d step ms (warm-up, profiled…): %s"
          % (rank, batch, " ".join("%.1f" % t for t in times)), flush=True)
    dist.barrier()
    dist.destroy_process_group()


def worker(rank, world, args, out_dir, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    run(rank, world, args, out_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--world", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--bucket-mb", type=float, default=0.001)
    ap.add_argument("--port", type=int, default=29510)
    ap.add_argument("--rank-batch", action="append", default=[], metavar="RANK=BATCH",
                    type=lambda v: tuple(int(x) for x in v.split("=", 1)))
    args = ap.parse_args()
    import torch
    import torch.multiprocessing as mp
    print("torch", torch.__version__)
    mp.spawn(worker, args=(args.world, args, args.out, args.port), nprocs=args.world, join=True)
    print("captured", args.out)


if __name__ == "__main__":
    main()
