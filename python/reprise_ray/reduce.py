"""`python -m reprise_ray report|whatif|plan`: the reduce, one Ray task over the shards."""

from __future__ import annotations

import sys
from pathlib import Path

import ray

from . import cluster
from .runner import Binary, run_reprise

COMMANDS = ("report", "whatif", "plan")


def run(command: str, inputs: list[str], extra: list[str], binary: Binary, node_resource: str | None = None,
        num_cpus: float = 1, output: str | None = None, memory: int | None = None) -> int:
    """Runs `reprise COMMAND INPUTS... EXTRA...` in one Ray task (reserving `num_cpus` CPUs and,
    when given, `memory` bytes).

    The task's standard output goes to OUTPUT (written on the driver) or to this process's
    stdout, its standard error to stderr; returns reprise's exit code, or 1 when the task
    raised or Ray lost it (the reason on stderr). Files that reprise itself writes (`report
    -o`, `--csv DIR`) are written on the node that ran the task: name a path on shared storage
    on a real cluster.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown reduce {command!r}; known: {', '.join(COMMANDS)}")
    options = {**cluster.task_options(node_resource), **cluster.resources(num_cpus, memory)}
    remote = ray.remote(run_reprise)
    refs = {remote.options(**options).remote(binary, [command, *inputs, *extra]): command}
    for _, done, error in cluster.completed(refs):
        if error:
            print(f"reprise_ray {command}: {error}", file=sys.stderr)
            return 1
        if output:
            Path(output).write_text(done["stdout"])
        else:
            sys.stdout.write(done["stdout"])
        sys.stderr.write(done["stderr"])
        return int(done["returncode"])
    return 1
