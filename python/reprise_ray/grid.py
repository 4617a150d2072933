"""The what-if grid of `python -m reprise_ray sweep`: its schema, cells and result rows.

A grid is one JSON object (docs/scale-out.md, "Sweep grid"):

    {"hardware": [null, "h100-sxm5-80gb"], "cluster": [null, "dgx-h100-4node"],
     "layout": [null, "dp=4"], "schedule": [null], "set": [[], ["compute.scale=0.5"]],
     "args": ["--from", "v100-sxm2-32gb"]}

Each axis is a non-empty list; a missing axis is [null]; null leaves the flag out (as
recorded); a cell with every axis null runs `--set compute.scale=1`, the baseline. The cells are the cross product in the order hardware, cluster, layout, schedule,
set, the first axis outermost, each axis in its listed order. `args` go to every cell.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

AXES: tuple[str, ...] = ("hardware", "cluster", "layout", "schedule", "set")
FLAGS: dict[str, str] = {"hardware": "--hardware", "cluster": "--cluster", "layout": "--parallel",
                         "schedule": "--schedule"}
IDENTITY = "compute.scale=1"  # a cell with nothing set: the identity what-if, the baseline row
COLUMNS: tuple[str, ...] = (
    "cell", "hardware", "cluster", "layout", "schedule", "set", "status", "exitCode", "error", "schema",
    "measuredStepNs", "baselineStepNs", "predictedStepNs", "lowStepNs", "highStepNs", "speedup",
    "measuredJobStepNs", "predictedJobStepNs", "jobStepSpeedup", "identityErrorPct", "measuredPct",
    "classTimedPct", "shapeTimedPct", "modelErrorPct", "unmatchedKnobs",
)


class GridError(ValueError):
    """A grid file that does not follow the schema; the message names the key."""


@dataclass(frozen=True)
class Cell:
    """One point of the grid: a value per axis (None: as recorded) and its knobs."""

    index: int
    hardware: str | None
    cluster: str | None
    layout: str | None
    schedule: str | None
    knobs: tuple[str, ...]

    def flags(self) -> list[str]:
        """The `reprise whatif` flags of this cell (without the inputs, `args` and --json)."""
        out: list[str] = []
        for axis, flag in FLAGS.items():
            value = getattr(self, axis)
            if value is not None:
                out += [flag, value]
        for knob in self.knobs:
            out += ["--set", knob]
        return out or ["--set", IDENTITY]

    def label(self) -> str:
        """A short name for the plot: the axis values and knobs that are set, else the identity
        what-if's knob."""
        parts = [str(getattr(self, axis)) for axis in FLAGS if getattr(self, axis) is not None]
        parts += list(self.knobs)
        return " ".join(parts) if parts else f"baseline ({IDENTITY})"


def _axis(grid: dict[str, Any], axis: str) -> list[Any]:
    values = grid.get(axis, [[]] if axis == "set" else [None])
    if not isinstance(values, list) or not values:
        raise GridError(f"grid: {axis!r} must be a non-empty list")
    for value in values:
        if axis == "set":
            knobs = [value] if isinstance(value, str) else value
            if not isinstance(knobs, list) or not all(isinstance(k, str) and "=" in k for k in knobs):
                raise GridError(f"grid: every {axis!r} entry is a list of KEY=VALUE strings, got {value!r}")
        elif value is not None and not isinstance(value, str):
            raise GridError(f"grid: {axis!r} entries are strings or null, got {value!r}")
    return values


def cells(grid: Any) -> list[Cell]:
    """The grid's cells in grid order; raises GridError for keys or values outside the schema."""
    if not isinstance(grid, dict):
        raise GridError("grid: the file must hold one JSON object")
    unknown = sorted(set(grid) - set(AXES) - {"args"})
    if unknown:
        raise GridError(f"grid: unknown key(s) {', '.join(unknown)}; known: {', '.join(AXES)}, args")
    extra_args(grid)
    axes = [_axis(grid, axis) for axis in AXES]
    out: list[Cell] = []
    for index, (hardware, cluster, layout, schedule, knobs) in enumerate(itertools.product(*axes)):
        knobs = [knobs] if isinstance(knobs, str) else knobs
        out.append(Cell(index, hardware, cluster, layout, schedule, tuple(knobs)))
    return out


def extra_args(grid: dict[str, Any]) -> list[str]:
    """The grid's `args`, given to every cell."""
    args = grid.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise GridError("grid: 'args' must be a list of strings")
    return list(args)


def _get(document: dict[str, Any], *keys: str) -> Any:
    value: Any = document
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def row(cell: Cell, returncode: int | None, document: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """One result row: the cell's values, the steps (`stepNs`, the slowest rank's step, and the
    job step where the JSON has it), the speedup and the trust fields (fidelity, interval,
    the model error of a layout prediction, knobs that matched nothing). Failed cells carry
    the error and empty results (a cell whose task Ray lost has no exit code).
    """
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    out.update(cell=cell.index, hardware=cell.hardware, cluster=cell.cluster, layout=cell.layout,
               schedule=cell.schedule, set=";".join(cell.knobs), exitCode=returncode, error=error)
    if document is None or returncode != 0:
        out["status"] = "error"
        return out
    step = document.get("stepNs") or {}
    baseline, predicted = step.get("baseline"), step.get("predicted")
    speedup = document.get("speedup")
    if speedup is None and baseline and predicted:
        speedup = round(baseline / predicted, 4)
    unmatched = [k["key"] for k in document.get("knobs", []) if k.get("matchedEvents") == 0]
    out.update(
        status="ok", schema=document.get("schema"), measuredStepNs=step.get("measured"), baselineStepNs=baseline,
        predictedStepNs=predicted, lowStepNs=step.get("low"), highStepNs=step.get("high"), speedup=speedup,
        measuredJobStepNs=_get(document, "jobStepNs", "measured"),
        predictedJobStepNs=_get(document, "jobStepNs", "predicted"), jobStepSpeedup=document.get("jobStepSpeedup"),
        identityErrorPct=_get(document, "fidelity", "identityErrorPct"),
        measuredPct=_get(document, "fidelity", "coverage", "measuredPct"),
        classTimedPct=_get(document, "fidelity", "coverage", "classTimedPct"),
        shapeTimedPct=_get(document, "fidelity", "coverage", "shapeTimedPct"),
        modelErrorPct=document.get("modelErrorPct"), unmatchedKnobs=";".join(unmatched),
    )
    return out
