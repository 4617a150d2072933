"""Connecting to Ray and placing tasks."""

from __future__ import annotations

import os
from typing import Any, Hashable, Iterator

import ray
import ray.cloudpickle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import reprise_ray


class AlreadyConnected(RuntimeError):
    """A runtime_env to ship, but this process joined Ray before: it cannot add one now."""


def connect(address: str | None = None, runtime_env: dict[str, Any] | None = None) -> None:
    """Connects to Ray once per process: `address` (--address), else $RAY_ADDRESS (set inside
    `ray job submit`), else a new local instance. A caller that already ran `ray.init` (the
    tests) keeps its instance.

    `runtime_env` (the shipped binary) is the job's: Ray uploads local directories only at the
    job level, and merges it with the runtime_env of `ray job submit` (`--working-dir`). The
    package is pickled by value into the tasks, so the workers need only Python and Ray, not
    this package on their import path.
    """
    ray.cloudpickle.register_pickle_by_value(reprise_ray)
    if ray.is_initialized():
        if runtime_env:
            raise AlreadyConnected("--ship-binary: Ray was initialized in this process before; "
                                   "the binary can only travel in the job's runtime_env")
        return
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    if address or os.environ.get("RAY_ADDRESS"):
        ray.init(address=address, runtime_env=runtime_env or None, log_to_driver=False)
    else:
        ray.init(include_dashboard=False, object_store_memory=100 * 1024 * 1024, runtime_env=runtime_env or None,
                 log_to_driver=False)


def task_options(node_resource: str | None = None) -> dict[str, Any]:
    """Ray options for one task: with --node-resource NAME, a sliver of that custom resource, so
    the task runs only on nodes started with it (`ray start --resources='{"NAME": 1}'`: the
    nodes that mount the traces).
    """
    options: dict[str, Any] = {}
    if node_resource:
        options["resources"] = {node_resource: 0.001}
    return options


def resources(num_cpus: float = 1, memory: int | None = None) -> dict[str, Any]:
    """Ray options that reserve `num_cpus` CPUs and, when given, `memory` bytes (Ray's logical
    `memory` resource: a node runs only as many such tasks at once as its memory holds)."""
    options: dict[str, Any] = {"num_cpus": num_cpus}
    if memory:
        options["memory"] = memory
    return options


def infeasible(num_cpus: float, memory: int | None, node_resource: str | None = None) -> str | None:
    """Why no alive node (with `node_resource`: none that has it) can run a task reserving
    `num_cpus` CPUs and `memory` bytes, or None when one can: Ray would queue such a task
    forever."""
    best_cpus, best_memory = 0.0, 0.0
    for node in ray.nodes():
        have = node.get("Resources", {})
        if not node.get("Alive") or (node_resource and have.get(node_resource, 0) <= 0):
            continue
        if have.get("CPU", 0) >= num_cpus and (not memory or have.get("memory", 0) >= memory):
            return None
        best_cpus, best_memory = max(best_cpus, have.get("CPU", 0)), max(best_memory, have.get("memory", 0))
    return (f"no alive node has {num_cpus} CPU(s)" + (f" and {memory} bytes of memory" if memory else "")
            + f" for one task (the most: {best_cpus:g} CPU(s), {best_memory:.0f} bytes)")


def alive_nodes(resource: str | None = None) -> list[str]:
    """The ids of the alive nodes (with `resource`: those that have it), sorted; the node-local
    discovery visits them in this order."""
    return sorted(node["NodeID"] for node in ray.nodes()
                  if node.get("Alive") and (resource is None or node.get("Resources", {}).get(resource, 0) > 0))


def pinned(node_id: str) -> dict[str, Any]:
    """Ray options that run a task on exactly this node."""
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)}


def task_error(error: BaseException) -> str:
    """One line for a task that returned no result: the exception its code raised
    (`RayTaskError`), else what Ray lost (a worker or node that died, an object lost, a
    cancelled task)."""
    cause = getattr(error, "cause", None)
    if isinstance(error, ray.exceptions.RayTaskError) and cause is not None:
        error = cause
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"Ray task failed: {type(error).__name__}" + (f": {lines[0]}" if lines else "")


def completed(refs: dict[ray.ObjectRef, Hashable]) -> Iterator[tuple[Hashable, Any, str | None]]:
    """(key, result, None) for each task of `refs` ({reference: key}, emptied) as it finishes,
    or (key, None, error line) for one that raised or was lost: one task's loss does not stop
    the others. Each result is fetched alone and its reference dropped, so the driver holds one
    result at a time. One wait takes every task done by then, so a large run waits about once
    per batch of tasks that end together, not once per task."""
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        if pending:
            more, pending = ray.wait(pending, num_returns=len(pending), timeout=0, fetch_local=False)
            ready += more
        while ready:
            ref = ready.pop(0)
            key = refs.pop(ref)
            error: str | None = None
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as failure:
                value, error = None, task_error(failure)
            del ref
            yield key, value, error
            del value
