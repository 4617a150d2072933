#!/usr/bin/env python3
"""Unit tests of tools/check_serving_iterations.py on small synthetic Kineto traces (stdlib only).

usage: python3 tools/test_check_serving_iterations.py   (run by tools/pycheck.sh, so by `make test`)
"""
import gzip
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_serving_iterations as c  # noqa: E402


def x(name, ts, dur, cat="user_annotation", pid=1, tid=1, **args):
    e = {"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid, "ts": ts, "dur": dur}
    if args:
        e["args"] = args
    return e


def sdpa(ts, b, s, t, h=4, d=8):
    return x("aten::scaled_dot_product_attention", ts, 1, cat="cpu_op",
             **{"Input Dims": [[b, h, s, d], [b, h, t, d], [b, h, t, d]]})


class Checker(unittest.TestCase):
    def write(self, events, gz=False):
        fd, path = tempfile.mkstemp(suffix=".json.gz" if gz else ".json")
        os.close(fd)
        self.addCleanup(os.remove, path)
        data = json.dumps({"traceEvents": events}).encode()
        with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
            f.write(data)
        return path

    def analyse(self, events, gz=False):
        return c.analyse(self.write(events, gz))

    def test_nested_engine_annotations_are_one_iteration(self):
        name = "execute_32_context_0(sq0sk0sqsq0sqsk0)_generation_32(sq32sk32785sqsq32sqsk32785)"
        r = self.analyse([x(name, 0, 100), x("step[DECODE bs=32]", 1, 98),
                          x(name, 200, 100), x("step[DECODE bs=32]", 201, 98)], gz=True)
        self.assertEqual(r["rule"], "engine annotations")
        its = r["iterations"]
        self.assertEqual(len(its), 2)
        self.assertEqual([it["kind"] for it in its], ["decode", "decode"])
        self.assertEqual((its[0]["tokens"], its[0]["batch"], its[0]["kvLength"]), (32, 32, 1025))
        self.assertEqual(its[0]["nested"], 1)
        self.assertEqual(its[0]["conflicts"], [])

    def test_execute_names_prefill_and_mixed(self):
        pre = c.parse_annotation(x("execute_2_context_2(sq1024sk1024sqsq524288sqsk524288)"
                                   "_generation_0(sq0sk0sqsq0sqsk0)", 0, 1))
        self.assertEqual((pre["kind"], pre["tokens"], pre["batch"], pre["kvLength"]), ("prefill", 1024, 2, 512))
        mixed = c.parse_annotation(x("execute_3_context_1(sq100sk100sqsq10000sqsk10000)"
                                     "_generation_2(sq2sk301sqsq2sqsk301)", 0, 1))
        self.assertEqual((mixed["kind"], mixed["tokens"], mixed["batch"], mixed["kvLength"]), ("mixed", 102, 3, 151))
        self.assertIsNone(c.parse_annotation(x("execute_3_context_1", 0, 1)))
        self.assertEqual(c.parse_annotation(x("step[EXTEND bs=4]", 0, 1))["kind"], "prefill")
        self.assertEqual(c.parse_annotation(x("step[MIXED bs=4 extend=2]", 0, 1))["batch"], 4)
        self.assertIsNone(c.parse_annotation(x("decode", 0, 1, cat="gpu_user_annotation")))

    def test_prefill_decode_annotations_take_shapes(self):
        events = [x("prefill", 0, 50), sdpa(10, 2, 16, 16), sdpa(20, 2, 16, 16),
                  x("decode", 100, 10), sdpa(101, 2, 1, 17),
                  x("DECODE", 200, 10), sdpa(201, 2, 1, 18),
                  x("decode", 100, 10, cat="gpu_user_annotation", pid=0, tid=7)]
        its = self.analyse(events)["iterations"]
        self.assertEqual([(it["kind"], it["tokens"], it["batch"], it["kvLength"]) for it in its],
                         [("prefill", 32, 2, 16), ("decode", 2, 2, 17), ("decode", 2, 2, 18)])
        rows = {r["kind"]: r for r in c.summary({"iterations": its})}
        self.assertEqual((rows["decode"]["count"], rows["decode"]["kvFirst"], rows["decode"]["kvLast"]), (2, 17, 18))

    def test_execute_model_only_without_annotations(self):
        fn = "vllm/v1/worker/gpu_model_runner.py(3380): execute_model"
        r = self.analyse([x(fn, 0, 10, cat="python_function"), sdpa(1, 8, 1, 40),
                          x(fn, 20, 10, cat="python_function"), sdpa(21, 8, 1, 41)])
        self.assertEqual(r["rule"], "vllm execute_model")
        self.assertEqual([it["kind"] for it in r["iterations"]], ["decode", "decode"])
        r = self.analyse([x(fn, 0, 10, cat="python_function"), x("decode", 1, 8)])
        self.assertEqual(r["rule"], "engine annotations")
        self.assertEqual(len(r["iterations"]), 1)

    def test_profiler_steps(self):
        r = self.analyse([x("ProfilerStep#3", 0, 10), sdpa(1, 1, 64, 64), x("ProfilerStep#4", 20, 10),
                          x("ProfilerStep#3", 0, 10, cat="gpu_user_annotation", pid=0)])
        self.assertEqual(r["rule"], "ProfilerStep#")
        self.assertEqual([it["kind"] for it in r["iterations"]], ["prefill", "forward"])

    def test_repeating_unit_largest_total_non_overlapping(self):
        events = [x("forward", 0, 30, cat="cpu_op"), x("aten::mm", 1, 28, cat="cpu_op"),
                  x("forward", 40, 30, cat="cpu_op"), x("aten::mm", 41, 28, cat="cpu_op"),
                  x("setup", 100, 5, cat="cpu_op"), x("setup", 110, 5, cat="cpu_op"),
                  x("once", 200, 500, cat="cpu_op"),
                  # two threads overlapping in time: never the unit
                  x("poll", 0, 400, cat="cpu_op", tid=2), x("poll", 10, 400, cat="cpu_op", tid=3)]
        r = self.analyse(events)
        self.assertTrue(r["rule"].startswith("repeating unit 'forward'"), r["rule"])
        self.assertEqual(len(r["iterations"]), 2)
        r = self.analyse([x("PyTorch Profiler (0)", 0, 50, cat="Trace"), x("once", 5, 10, cat="cpu_op"),
                          x("cudaLaunchKernel", 6, 1, cat="cuda_runtime"),
                          x("cudaLaunchKernel", 8, 1, cat="cuda_runtime"),
                          {"ph": "i", "s": "g", "name": "Record Window End", "pid": "", "tid": "", "ts": 90},
                          {"ph": "M", "name": "process_name", "pid": 1, "ts": 0, "args": {"name": "x"}}])
        self.assertEqual(r["rule"], "whole rank")
        (it,) = r["iterations"]
        self.assertEqual(it["durationUs"], 90)

    def test_repeating_unit_prefers_user_annotations(self):
        # A root record_function range repeating twice wins over a framework op with more time.
        events = [x("request", 0, 5), x("request", 10, 5),
                  x("big_op", 20, 100, cat="cpu_op"), x("big_op", 130, 100, cat="cpu_op")]
        r = self.analyse(events)
        self.assertTrue(r["rule"].startswith("repeating unit 'request'"), r["rule"])
        r = self.analyse(events[2:])
        self.assertTrue(r["rule"].startswith("repeating unit 'big_op'"), r["rule"])

    def test_duration_to_the_end_of_the_device_work_launched_inside(self):
        events = [x("decode", 100, 50), sdpa(101, 4, 1, 9),
                  x("cudaLaunchKernel", 110, 2, cat="cuda_runtime", correlation=7),
                  x("cudaGraphLaunch", 120, 5, cat="cuda_runtime", correlation=8),
                  x("k1", 300, 10, cat="kernel", pid=0, tid=7, correlation=7),
                  x("g1", 320, 10, cat="kernel", pid=0, tid=7, correlation=8),
                  x("g2", 335, 15, cat="kernel", pid=0, tid=7, correlation=8),
                  x("cudaLaunchKernel", 160, 2, cat="cuda_runtime", correlation=9),
                  x("late", 900, 10, cat="kernel", pid=0, tid=7, correlation=9),
                  x("decode", 200, 10), sdpa(201, 4, 1, 10)]
        a, b = self.analyse(events)["iterations"]
        self.assertEqual((a["durationUs"], a["spanUs"], a["deviceStartUs"], a["deviceEndUs"]), (50, 250, 200, 250))
        self.assertEqual((b["durationUs"], b["spanUs"], b["deviceStartUs"]), (10, 10, None))

    def test_host_split_outermost_attention_and_gemm_ops_and_kv_bytes(self):
        dims = {"Input Dims": [[1, 4, 8, 16], [1, 2, 8, 16], [1, 2, 8, 16]],
                "Input type": ["float", "float", "float"]}
        flash = "aten::_scaled_dot_product_flash_attention_for_cpu"
        events = [x("prefill", 0, 100),
                  x("aten::linear", 5, 20, cat="cpu_op"), x("aten::matmul", 6, 18, cat="cpu_op"),
                  x("aten::mm", 7, 16, cat="cpu_op"),
                  x("aten::scaled_dot_product_attention", 30, 30, cat="cpu_op", **dims),
                  x(flash, 31, 28, cat="cpu_op", **dims),
                  x("aten::mm", 70, 10, cat="cpu_op", tid=2),
                  x("aten::add", 85, 5, cat="cpu_op")]
        (it,) = self.analyse(events)["iterations"]
        self.assertEqual((it["attentionUs"], it["linearUs"], it["otherUs"]), (30, 30, 40))
        self.assertEqual(it["kvBytesRead"], 2 * 2 * 8 * 16 * 4)
        self.assertEqual((it["kind"], it["tokens"], it["kvLength"]), ("prefill", 8, 8))

    def test_graph_capture_matches_by_position(self):
        k = ["k_a", "k_b", "k_c"]
        cap = [x("aten::mm", 5, 10, cat="cpu_op", **{"Input Dims": [[4, 4], [4, 4]]}),
               x("cudaStreamBeginCapture", 1, 1, cat="cuda_runtime"),
               x("cudaLaunchKernel", 6, 1, cat="cuda_runtime", kernel=k[0], correlation=1),
               x("cuLaunchKernel", 8, 1, cat="cuda_driver", kernel=k[1], correlation=2),
               x("cudaLaunchKernel", 20, 1, cat="cuda_runtime", kernel=k[2], correlation=3),
               x("cudaStreamEndCapture", 30, 1, cat="cuda_runtime"),
               x("cudaLaunchKernel", 40, 1, cat="cuda_runtime", kernel="after", correlation=4)]
        exe = [x("cudaGraphLaunch", 0, 5, cat="cuda_runtime", correlation=99),
               x(k[0], 10, 1, cat="kernel", pid=0, tid=7, correlation=99),
               x(k[2], 14, 1, cat="kernel", pid=0, tid=7, correlation=99),
               x(k[1], 12, 1, cat="kernel", pid=0, tid=7, correlation=99),
               x("other", 16, 1, cat="kernel", pid=0, tid=7, correlation=5)]
        res = c.graph_capture(self.write(cap), self.write(exe))
        self.assertEqual(res["executedKernels"], 3)
        (w,) = res["windows"]
        self.assertEqual((w["capturedLaunches"], w["matchedByPosition"], w["firstMismatch"]), (3, 3, None))
        self.assertEqual(w["enclosingOps"], {"aten::mm": 2, "(none)": 1})
        exe[3]["name"] = "k_other"
        (w,) = c.graph_capture(self.write(cap), self.write(exe))["windows"]
        self.assertEqual((w["matchedByPosition"], w["firstMismatch"]), (2, 1))


if __name__ == "__main__":
    unittest.main()
