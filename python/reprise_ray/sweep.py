"""`python -m reprise_ray sweep`: one Ray task per grid cell runs `reprise whatif … --json`;
the rows go to OUTDIR/sweep.csv, OUTDIR/sweep.json and one plot, OUTDIR/sweep.png."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import ray

from . import cluster, grid
from .runner import Binary, error_line, run_reprise

SCHEMA = "reprise_ray.sweep/v1"


def run_cell(binary: Binary, inputs: list[str], cell: grid.Cell, extra: list[str]) -> dict[str, Any]:
    """Runs one cell's `reprise whatif` on this node and returns its row."""
    done = run_reprise(binary, ["whatif", *inputs, *cell.flags(), *extra, "--json"])
    if done["returncode"] != 0:
        error = error_line(done["stderr"]) or f"reprise whatif exited {done['returncode']}"
        return grid.row(cell, done["returncode"], None, error)
    try:
        document = json.loads(done["stdout"])
    except ValueError as failure:
        return grid.row(cell, 1, None, f"unreadable `reprise whatif --json` output: {failure}")
    return grid.row(cell, 0, document, None)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """One line per cell, the columns of grid.COLUMNS; an absent value is an empty field."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(grid.COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


def plot(rows: list[dict[str, Any]], labels: list[str], path: Path) -> None:
    """A point per cell: its speedup (baseline / predicted step) with the interval (baseline /
    high to baseline / low) as the error bar, beside the line at 1; a failed cell is marked
    `failed`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = max(2.5, 0.35 * len(rows) + 1.2)
    figure, axes = plt.subplots(figsize=(10, height))
    for y, row in enumerate(rows):
        if row["status"] != "ok" or not row["speedup"]:
            axes.text(1.0, y, " failed", va="center", color="tab:red", fontsize=8)
            continue
        speedup = float(row["speedup"])
        low = high = speedup
        if row["baselineStepNs"] and row["highStepNs"] and row["lowStepNs"]:
            low = row["baselineStepNs"] / row["highStepNs"]
            high = row["baselineStepNs"] / row["lowStepNs"]
        error = [[max(0.0, speedup - low)], [max(0.0, high - speedup)]]
        axes.errorbar(speedup, y, xerr=error, fmt="o", color="tab:blue", ecolor="black", capsize=3)
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes.set_yticks(range(len(rows)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("speedup (baseline / predicted step), bar: interval")
    axes.set_title("reprise whatif sweep")
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def run(grid_file: str, inputs: list[str], out_dir: str, extra: list[str], binary: Binary,
        node_resource: str | None = None, num_cpus: float = 1, memory: int | None = None) -> int:
    """Runs every cell of the grid in its own Ray task (reserving `num_cpus` CPUs and, when
    given, `memory` bytes each) and writes the table and the plot.

    Each row is taken as its cell ends; a cell whose task raised or that Ray lost is a failed
    row (status `error`, no exit code) and the others go on. Returns 0 when every cell
    succeeded, 1 when one failed (its row carries the error), 64 for a grid file outside the
    schema.
    """
    try:
        document = json.loads(Path(grid_file).read_text())
        cells = grid.cells(document)
        args = grid.extra_args(document) + extra
    except (OSError, ValueError) as failure:
        print(f"reprise_ray sweep: {grid_file}: {failure}", file=sys.stderr)
        return 64
    options = {**cluster.task_options(node_resource), **cluster.resources(num_cpus, memory)}
    remote = ray.remote(run_cell)
    refs = {remote.options(**options).remote(binary, inputs, cell, args): cell for cell in cells}
    by_index: dict[int, dict[str, Any]] = {}
    for cell, row, error in cluster.completed(refs):
        by_index[cell.index] = grid.row(cell, None, None, error) if error else row
    rows = [by_index[cell.index] for cell in cells]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "sweep.csv")
    summary = {"schema": SCHEMA, "grid": document, "inputs": inputs, "columns": list(grid.COLUMNS), "rows": rows}
    (out / "sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(rows, [f"{cell.index}: {cell.label()}" for cell in cells], out / "sweep.png")
    failed = [row for row in rows if row["status"] != "ok"]
    print(f"{len(rows)} cell(s), {len(failed)} failed: {out / 'sweep.csv'}, {out / 'sweep.json'}, {out / 'sweep.png'}")
    for row in failed:
        print(f"reprise_ray sweep: cell {row['cell']}: {row['error']}", file=sys.stderr)
    return 1 if failed else 0
