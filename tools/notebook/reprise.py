"""Load Reprise reports into pandas DataFrames and plot them.

A report is what `reprise report PATH -o report.json [--csv DIR] [--detail]` writes (schema
reprise.report/v2, docs/report.schema.json). Both forms load into the same tables, one DataFrame
per section, named like the CSV files:

    summary, breakdown, bubbles, bubble_ranks, bubble_lanes, bubble_causes, bandwidth,
    bandwidth_groups, bandwidth_buckets, stragglers, memory, memory_devices, critical_path,
    critical_path_waits, critical_path_ops, whatif, whatif_classes

The JSON is a summary unless written with --detail: there `bubbles` holds the 50 longest idle
intervals (`bubbles.longest`), `critical_path` the 50 longest segments
(`criticalPath.longestSegments`) and `bandwidth` the 50 longest collective instances
(`bandwidth.longest`); with --detail, and in the CSV files, they hold every one.

Times stay in nanoseconds as in the report (columns end in ``Ns``); the plots convert to ms.

    import reprise
    frames = reprise.load_report("out/report.json")     # or reprise.load_csv_dir("out")
    reprise.plot_breakdown(frames)
    reprise.plot_bubble_timeline(frames)
    reprise.plot_bandwidth(frames)
    reprise.plot_memory(frames)
    reprise.plot_roofline("out/ddp-4rank.roofline.json")  # from `reprise model roofline TRACE --json`
"""
from __future__ import annotations

import json
import os
from typing import Dict, Optional

import matplotlib.pyplot as plt
import pandas as pd

SCHEMA = "reprise.report/v2"

# Table (and CSV file) name → the paths to its rows in the JSON, the first present taken: the
# full lists are only in a --detail report, the summary has the longest rows.
_TABLES = {
    "breakdown": (["breakdown", "ranks"],),
    "bubbles": (["bubbles", "intervals"], ["bubbles", "longest"]),
    "bubble_ranks": (["bubbles", "ranks"],),
    "bubble_lanes": (["bubbles", "byLane"],),
    "bubble_causes": (["bubbles", "byCause"],),
    "bandwidth": (["bandwidth", "instances"], ["bandwidth", "longest"]),
    "bandwidth_groups": (["bandwidth", "byGroup"],),
    "bandwidth_buckets": (["bandwidth", "buckets"],),
    "stragglers": (["stragglers", "ranks"],),
    "memory": (["memory", "samples"],),
    "memory_devices": (["memory", "devices"],),
    "critical_path": (["criticalPath", "segments"], ["criticalPath", "longestSegments"]),
    "critical_path_waits": (["criticalPath", "waitsByHolder"],),
    "critical_path_ops": (["criticalPath", "byOp"],),
    "whatif": (["whatIf", "ranks"],),
    "whatif_classes": (["whatIf", "byClass"],),
}


def _rows(doc, paths):
    """The rows at the first of `paths` present in `doc` (None when none is)."""
    for keys in paths:
        node = doc
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None

CAUSE_COLORS = {"hostLaunch": "#ff8787", "collective": "#ffa94d", "recv": "#e03131",
                "sync": "#9775fa", "crossStream": "#3bc9db", "other": "#ced4da"}
CATEGORY_COLORS = {"compute": "#4e79a7", "communication": "#f28e2b", "host": "#9c9c9c", "bubble": "#ff9d9a",
                   "lateStart": "#e9ecef"}


def load_report(path: str) -> Dict[str, pd.DataFrame]:
    """Reads a report JSON into one DataFrame per section (empty when the section has no rows)."""
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: expected schema {SCHEMA}, found {doc.get('schema')!r}")
    frames: Dict[str, pd.DataFrame] = {}
    summary = {k: v for k, v in doc["summary"].items() if not isinstance(v, (list, dict))}
    frames["summary"] = pd.DataFrame([summary])
    for name, paths in _TABLES.items():
        frames[name] = pd.DataFrame(_rows(doc, paths) or [])
    frames["_document"] = doc  # the raw JSON, for fields that are not tables
    return frames


def load_csv_dir(path: str) -> Dict[str, pd.DataFrame]:
    """Reads the CSV files written by `reprise report --csv DIR`."""
    frames: Dict[str, pd.DataFrame] = {}
    for name in ["summary", *_TABLES]:
        file = os.path.join(path, name + ".csv")
        frames[name] = pd.read_csv(file) if os.path.exists(file) else pd.DataFrame()
    return frames


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    return ax


def plot_breakdown(frames, ax=None):
    """Stacked bars per rank: compute, exposed communication, exposed memcpy/memset, idle (ms)."""
    df = frames["breakdown"]
    ax = _ax(ax)
    parts = [("computeNs", "compute", "#4e79a7"), ("exposedCommunicationNs", "exposed comm", "#f28e2b"),
             ("exposedMemoryNs", "exposed memcpy/set", "#edc948"), ("idleNs", "idle", "#d9d9d9")]
    bottom = pd.Series(0.0, index=df.index)
    for col, label, color in parts:
        ax.bar(df["rank"].astype(str), df[col] / 1e6, bottom=bottom, label=label, color=color)
        bottom += df[col] / 1e6
    ax.set_xlabel("rank")
    ax.set_ylabel("ms")
    ax.set_title("Where the device time went")
    ax.legend(fontsize=8)
    return ax


def plot_bubble_timeline(frames, ax=None, lanes: bool = True):
    """Idle intervals per rank (and stream), coloured by cause, on the trace's time axis (ms):
    every interval from a --detail report or the CSV files, else the longest 50."""
    df = frames["bubbles"]
    if not lanes:
        df = df[df["lane"] == -1]
    ax = _ax(ax)
    if df.empty:
        ax.set_title("no bubbles")
        return ax
    t0 = df["startNs"].min()
    rows = df[["rank", "lane", "laneName"]].drop_duplicates().sort_values(["rank", "lane"]).reset_index(drop=True)
    for i, row in rows.iterrows():
        sel = df[(df["rank"] == row["rank"]) & (df["lane"] == row["lane"])]
        for cause, group in sel.groupby("cause"):
            ax.broken_barh(list(zip((group["startNs"] - t0) / 1e6, group["durationNs"] / 1e6)), (i - 0.4, 0.8),
                           color=CAUSE_COLORS.get(cause, "#999999"))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"rank {r} {n}" for r, n in zip(rows["rank"], rows["laneName"])], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms since the first bubble")
    ax.set_title("Bubbles by cause")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in CAUSE_COLORS.values()]
    ax.legend(handles, CAUSE_COLORS.keys(), fontsize=7, loc="upper right")
    return ax


def plot_bandwidth(frames, ax=None):
    """Achieved bus bandwidth of every matched collective against its message size (of the
    longest 50 from a summary report)."""
    df = frames["bandwidth"]
    df = df[(df["matched"]) & (df["bytes"] > 0) & (df["transferNs"] > 0)] if not df.empty else df
    ax = _ax(ax)
    for kind, group in df.groupby("kind"):
        ax.scatter(group["bytes"], group["busBandwidthGBps"], label=kind, s=18)
    ax.set_xscale("log")
    ax.set_xlabel("message size (bytes, nccl-tests convention)")
    ax.set_ylabel("busbw (GB/s)")
    ax.set_title("Bus bandwidth vs. message size")
    if not df.empty:
        ax.legend(fontsize=8)
    return ax


def plot_memory(frames, ax=None):
    """Allocated memory over time per rank and device, from the trace's allocator events (GiB)."""
    df = frames["memory"]
    ax = _ax(ax)
    if df.empty:
        ax.set_title("no memory events in the trace (profile_memory=False)")
        return ax
    t0 = df["timeNs"].min()
    for (rank, device), group in df.groupby(["rank", "device"]):
        ax.step((group["timeNs"] - t0) / 1e6, group["allocatedBytes"] / 2**30, where="post",
                label=f"rank {rank} {'cpu' if device < 0 else 'gpu ' + str(device)}")
    ax.set_xlabel("ms")
    ax.set_ylabel("allocated (GiB)")
    ax.set_title("Memory timeline")
    ax.legend(fontsize=7)
    return ax


def plot_critical_path(frames, ax=None):
    """Critical-path time by category and rank (ms); by category alone from a summary report,
    which has only the longest segments (`criticalPath.byCategoryNs`)."""
    df = frames["critical_path"]
    ax = _ax(ax)
    doc = frames.get("_document")
    if doc is not None and doc["criticalPath"].get("segments") is None:
        by_category = {k: v for k, v in doc["criticalPath"]["byCategoryNs"].items() if v}
        if not by_category:
            ax.set_title("no critical path")
            return ax
        table = pd.DataFrame([by_category], index=["all ranks"]) / 1e6
        table.plot.barh(stacked=True, ax=ax, color=[CATEGORY_COLORS.get(c, "#999999") for c in table.columns])
        ax.set_xlabel("ms on the critical path")
        ax.set_title("Critical path by category")
        return ax
    if df.empty:
        ax.set_title("no critical path")
        return ax
    table = df.pivot_table(index="rank", columns="category", values="durationNs", aggfunc="sum", fill_value=0) / 1e6
    table.plot.barh(stacked=True, ax=ax, color=[CATEGORY_COLORS.get(c, "#999999") for c in table.columns])
    ax.set_xlabel("ms on the critical path")
    ax.set_title("Critical path by rank and category")
    return ax


def plot_roofline(path: str, ax=None, dtype: Optional[str] = None):
    """Roofline scatter of the sized kernels in a `reprise model roofline --json` file."""
    with open(path) as f:
        doc = json.load(f)
    ops = pd.DataFrame(doc["ops"])
    ax = _ax(ax)
    if ops.empty:
        ax.set_title("no sized kernels")
        return ax
    peaks = doc.get("peakTFLOPs", {})
    hbm = doc.get("hbmBandwidthGBps")
    dtype = dtype or ("bf16" if "bf16" in peaks else next(iter(peaks), None))
    for family, group in ops.groupby("family"):
        ax.scatter(group["arithmeticIntensity"], group["achievedTFLOPs"], label=family, s=20)
    if dtype and hbm:
        import numpy as np
        peak = peaks[dtype]
        x = np.logspace(-1, 4, 200)
        ax.plot(x, np.minimum(peak, x * hbm / 1e3), color="black", lw=1, label=f"roofline ({dtype})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved TFLOP/s")
    ax.set_title(f"Roofline on {doc.get('hardware')}")
    ax.legend(fontsize=7)
    return ax
