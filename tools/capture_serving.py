#!/usr/bin/env python3
"""Capture LLM serving (prefill + greedy decode) of one small Llama on CPU: validation data for
Reprise's serving model (time to first token, time per output token).

The model is Hugging Face transformers' LlamaForCausalLM built in code from a LlamaConfig (nothing
is downloaded): LAYERS decoder layers of HIDDEN, HEADS query heads and KV_HEADS key/value heads
(grouped-query attention on purpose: KV_HEADS < HEADS), head dimension HIDDEN/HEADS, gated SiLU MLP
of width FFN, RMSNorm, rotary positions, untied LM head of VOCAB, no biases; random weights seeded
with SEED; fp32, eval(), attn_implementation="sdpa". One process, torch.set_num_threads(1),
everything under torch.inference_mode().

Each generation is a greedy decode loop written by hand with a transformers DynamicCache:

    prefill   one forward of the [B, P] prompt (seeded random token ids, no padding, all B prompts
              the same length) inside record_function("prefill"), logits of the last position only
              (logits_to_keep=1), argmax
    decode    NEW_TOKENS-1 forwards of [B, 1] (the previous argmax), each inside
              record_function("decode"), argmax

TTFT is the prefill forward + its argmax, TPOT the mean decode step (forward + argmax), both with
perf_counter. Per (B, P): one unprofiled warm-up generation, then REPEATS unprofiled timed
generations, the configurations interleaved (b1-p256, b1-p512, …, b1-p256, …) to spread machine
noise over all of them; then ONE profiled generation per configuration (torch.profiler, CPU
activity, record_shapes=True, no stacks, no memory), whose own TTFT/TPOT are also measured.
Writes:

    OUT/b{B}-p{P}/b{B}-p{P}.pt.trace.json.gz
                                     the profiled generation (gzip -9 -n, otherwise unmodified),
                                     each in a folder of its own: one run per folder, as
                                     `reprise demo` reads a folder of subfolders
    OUT/measured.json                schema reprise.capture.serving version 1: config (model,
                                     torch/transformers versions, threads, CPU) and
                                     per run "b{B}-p{P}": ttftMs/tpotMs of every repeat, their
                                     medians, and the in-profile ttftMs/tpotMs
    OUT/llama-tiny.json              the model as a Reprise ModelSpec (--model)

usage: capture_serving.py OUT [--batches 1,4] [--prompts 256,512,1024,2048] [--new-tokens 24]
                          [--repeats 5] [--layers 4] [--hidden 256] [--heads 4] [--kv-heads 2]
                          [--ffn 688] [--vocab 8192] [--seed 0]

Needs torch (CPU build; with a CUDA build hide the GPUs with CUDA_VISIBLE_DEVICES=) and
transformers. See Traces/kineto-cpu/serving-llama/README.md for the captured set, the command and
the measured table.
"""
import argparse
import gc
import gzip
import json
import os
import platform
import shutil
import statistics
import tempfile
import time

from capture_parallel import cpu_name  # the same machine description as the training captures


def build_model(args):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.ffn,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, head_dim=args.hidden // args.heads,
        max_position_embeddings=max(args.prompts) + args.new_tokens, hidden_act="silu",
        rms_norm_eps=1e-5, tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        attn_implementation="sdpa", torch_dtype="float32")
    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    return config, model


def generate(model, config, prompt, new_tokens):
    """One greedy generation; returns (ttft seconds, [decode step seconds])."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    t0 = time.perf_counter()
    with torch.profiler.record_function("prefill"):
        out = model(input_ids=prompt, cache=cache, use_cache=True, logits_to_keep=1)
        token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
    ttft = time.perf_counter() - t0
    steps = []
    for _ in range(new_tokens - 1):
        t0 = time.perf_counter()
        with torch.profiler.record_function("decode"):
            out = model(input_ids=token, cache=cache, use_cache=True, logits_to_keep=1)
            token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
        steps.append(time.perf_counter() - t0)
    assert cache.get_seq_length() == prompt.shape[1] + new_tokens - 1
    return ttft, steps


def timed(model, config, prompt, new_tokens):
    """generate() with the garbage collector run before and kept off during the generation, so
    that no collection of the profiler's or the previous run's objects lands inside a TTFT."""
    gc.collect()
    gc.disable()
    try:
        return generate(model, config, prompt, new_tokens)
    finally:
        gc.enable()


def model_spec(args):
    return {
        "name": "llama-tiny",
        "source": "tools/capture_serving.py: transformers LlamaForCausalLM from a LlamaConfig built "
                  "in code (random weights, seed %d) of Traces/kineto-cpu/serving-llama" % args.seed,
        "layers": args.layers, "hidden": args.hidden, "heads": args.heads, "kvHeads": args.kv_heads,
        "headDim": args.hidden // args.heads, "ffn": args.ffn, "ffnType": "gated",
        "vocab": args.vocab, "tiedEmbeddings": False, "norm": "rmsnorm", "bias": False,
    }


def ms(seconds):
    return round(seconds * 1e3, 3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--prompts", default="256,512,1024,2048")
    ap.add_argument("--new-tokens", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=688)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    args.prompts = [int(p) for p in args.prompts.split(",")]
    if args.hidden % args.heads or args.heads % args.kv_heads or args.new_tokens < 2:
        raise SystemExit("bad arguments: heads must divide hidden, kv-heads must divide heads, "
                         "new-tokens must be at least 2")

    import torch
    import transformers
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    config, model = build_model(args)
    configs = [(b, p) for b in args.batches for p in args.prompts]
    gen = torch.Generator().manual_seed(args.seed)
    prompts = {c: torch.randint(0, args.vocab, c, generator=gen) for c in configs}
    runs = {"b%d-p%d" % c: dict(batch=c[0], prompt=c[1], newTokens=args.new_tokens, ttftMs=[], tpotMs=[])
            for c in configs}
    tmp = tempfile.mkdtemp(prefix="capture-serving-")
    with torch.inference_mode():
        for c in configs:
            timed(model, config, prompts[c], args.new_tokens)
        for r in range(args.repeats):
            for c in configs:
                ttft, steps = timed(model, config, prompts[c], args.new_tokens)
                run = runs["b%d-p%d" % c]
                run["ttftMs"].append(ms(ttft))
                run["tpotMs"].append(ms(statistics.mean(steps)))
                print("repeat %d b%d-p%d: TTFT %.2f ms, TPOT %.3f ms" % (r, c[0], c[1], ttft * 1e3,
                                                                         statistics.mean(steps) * 1e3),
                      flush=True)
        for c in configs:
            key = "b%d-p%d" % c
            # The same configuration unprofiled right before its profiled run, so that the
            # allocator holds the buffers this shape needs (not the previous configuration's).
            timed(model, config, prompts[c], args.new_tokens)
            with profile(activities=[ProfilerActivity.CPU], record_shapes=True, with_stack=False,
                         profile_memory=False) as prof:
                ttft, steps = timed(model, config, prompts[c], args.new_tokens)
            prof.export_chrome_trace(os.path.join(tmp, key + ".json"))
            del prof
            run = runs[key]
            run["ttftMsMedian"] = round(statistics.median(run["ttftMs"]), 3)
            run["tpotMsMedian"] = round(statistics.median(run["tpotMs"]), 3)
            run["inProfile"] = dict(ttftMs=ms(ttft), tpotMs=ms(statistics.mean(steps)))
            print("profiled %s: TTFT %.2f ms, TPOT %.3f ms" % (key, ttft * 1e3, statistics.mean(steps) * 1e3),
                  flush=True)
    for c in configs:
        key = "b%d-p%d" % c
        os.makedirs(os.path.join(args.out, key), exist_ok=True)
        with open(os.path.join(tmp, key + ".json"), "rb") as src, \
                open(os.path.join(args.out, key, key + ".pt.trace.json.gz"), "wb") as dst:
            dst.write(gzip.compress(src.read(), compresslevel=9, mtime=0))
    shutil.rmtree(tmp)
    measured = {
        "schema": "reprise.capture.serving",
        "version": 1,
        "config": dict(
            model=model_spec(args), attnImplementation="sdpa", dtype="float32", seed=args.seed,
            torch=torch.__version__, transformers=transformers.__version__,
            python=platform.python_version(), threads=torch.get_num_threads(), cpu=cpu_name(),
            machine="%s, %d logical CPUs" % (platform.machine(), os.cpu_count()),
            newTokens=args.new_tokens, repeats=args.repeats,
            command="tools/capture_serving.py OUT --batches %s --prompts %s --new-tokens %d --repeats %d "
                    "--layers %d --hidden %d --heads %d --kv-heads %d --ffn %d --vocab %d --seed %d" % (
                        ",".join(map(str, args.batches)), ",".join(map(str, args.prompts)),
                        args.new_tokens, args.repeats, args.layers, args.hidden, args.heads,
                        args.kv_heads, args.ffn, args.vocab, args.seed)),
        "runs": runs,
    }
    with open(os.path.join(args.out, "measured.json"), "w") as f:
        json.dump(measured, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "llama-tiny.json"), "w") as f:
        json.dump(model_spec(args), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
