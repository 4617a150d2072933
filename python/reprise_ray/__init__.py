"""Reprise on Ray: fan the `reprise` binary out over a Ray cluster.

`python -m reprise_ray shard` writes one shard per rank (one Ray task each: the rank's trace
and the host execution traces of its rank),
`python -m reprise_ray report|whatif|plan` reduces over a shard directory in one Ray task,
`python -m reprise_ray sweep` runs a grid of what-ifs, one Ray task per cell. Reprise keeps no
scheduler of its own: Ray places the tasks, each task runs the `reprise` binary
(docs/scale-out.md).
"""

__version__ = "0.1.0"
