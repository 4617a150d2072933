"""`python -m reprise_ray report|whatif|plan`: the reduce, one Ray task over the shards."""

from __future__ import annotations

import sys
from pathlib import Path
import ray

from . import cluster
from .runner import Binary, run_reprise

COMMANDS = ("report", "whatif", "plan")


def run(command: str, inputs: list[str], extra: list[str], binary: Binary, node_resource: str | None = None, num_cpus: int = 1, output: str | None = None) -> int:
    """Runs `reprise COMMAND INPUTS... EXTRA...` in one Ray task.

    The task's standard output goes to OUTPUT (written on the driver) or to this process's
    stdout, its standard error to stderr; returns reprise's exit code. Files that reprise itself
    writes (`report -o`, `--csv DIR`) are written on the node that ran the task: name a path on
    shared storage on a real cluster.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown reduce {command!r}; known: {', '.join(COMMANDS)}")
    options = cluster.task_options(node_resource)
    remote = ray.remote(num_cpus=num_cpus)(run_reprise)
    done = ray.get(remote.options(**options).remote(binary, [command, *inputs, *extra]))
    if output:
        Path(output).write_text(done["stdout"])
    else:
        sys.stdout.write(done["stdout"])
    sys.stderr.write(done["stderr"])
    return int(done["returncode"])
