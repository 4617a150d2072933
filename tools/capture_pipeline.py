#!/usr/bin/env python3
"""Capture small pipeline-parallel PyTorch profiler traces on CPU (gloo), for schedule tests.

Two ranks on 127.0.0.1 each hold one stage of a small MLP; torch.distributed.pipelining runs
ScheduleGPipe and Schedule1F1B with the same model, batch and micro-batch count, and the
profiler writes one Kineto trace per rank and schedule:

    OUT/gpipe/rank0.pt.trace.json, OUT/gpipe/rank1.pt.trace.json, OUT/1f1b/…

usage: capture_pipeline.py OUT [--microbatches 4] [--hidden 512] [--steps 3]

Needs torch (CPU build). See Traces/kineto-cpu/README.md for what such traces look like
(annotations per schedule class, gloo send/recv spans, CPU contention on small machines).
"""
import argparse, os, sys


def run(rank, world, args, schedule_name, out_dir):
    import torch
    import torch.distributed as dist
    from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    h = args.hidden
    layers = []
    for _ in range(args.layers):
        layers += [torch.nn.Linear(h, h), torch.nn.ReLU()]
    stage_module = torch.nn.Sequential(*layers)
    stage = PipelineStage(stage_module, rank, world, torch.device("cpu"))
    loss = torch.nn.MSELoss()
    cls = {"gpipe": ScheduleGPipe, "1f1b": Schedule1F1B}[schedule_name]
    schedule = cls(stage, n_microbatches=args.microbatches, loss_fn=loss)
    x = torch.randn(args.batch, h)
    y = torch.randn(args.batch, h)

    def step():
        if rank == 0:
            schedule.step(x)
        elif rank == world - 1:
            schedule.step(target=y)
        else:
            schedule.step()

    for _ in range(2):  # warm-up outside the profile
        step()
    dist.barrier()
    from torch.profiler import ProfilerActivity, profile, schedule as prof_schedule
    path = os.path.join(out_dir, schedule_name)
    os.makedirs(path, exist_ok=True)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=prof_schedule(wait=0, warmup=1, active=args.steps, repeat=1)) as prof:
        for _ in range(args.steps + 1):
            step()
            prof.step()
    prof.export_chrome_trace(os.path.join(path, "rank%d.pt.trace.json" % rank))
    dist.barrier()
    dist.destroy_process_group()


def worker(rank, world, args, schedule_name, out_dir, port):
    os.environ["MASTER_PORT"] = str(port)
    run(rank, world, args, schedule_name, out_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--microbatches", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--world", type=int, default=2)
    args = ap.parse_args()
    import torch.multiprocessing as mp
    for i, name in enumerate(["gpipe", "1f1b"]):
        mp.spawn(worker, args=(args.world, args, name, args.out, 29500 + i), nprocs=args.world, join=True)
        print("captured", os.path.join(args.out, name))


if __name__ == "__main__":
    main()
