"""Runs the `reprise` binary in a subprocess; the code here runs inside Ray tasks.

Only the standard library is used: the package is pickled by value into the tasks
(`cluster.connect`), so a Ray worker needs neither this package nor anything beyond Python.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Binary:
    """How a task finds `reprise` on its node.

    `shipped`: the binary travels in the job's runtime_env as the `py_modules` entry
    `reprise_bin` (binary.binary_for); `path`: the driver's path, used on a node where it
    exists (a local instance, shared storage, the same install path); else `$REPRISE_BIN` on the
    node, else `reprise` on the node's PATH.
    """

    path: str
    shipped: bool = False

    def resolve(self) -> str:
        """The executable to run on this node; raises FileNotFoundError naming what was tried."""
        if self.shipped:
            import reprise_bin  # type: ignore[import-not-found]  # the shipped py_modules entry

            exe = os.path.join(os.path.dirname(reprise_bin.__file__), "reprise")
            mode = os.stat(exe).st_mode
            if not mode & stat.S_IXUSR:  # a zip upload may drop the executable bit
                os.chmod(exe, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return exe
        if os.sep in self.path and os.path.isfile(self.path):
            return self.path
        env = os.environ.get("REPRISE_BIN")
        if env and os.path.isfile(env):
            return env
        found = shutil.which(self.path) or shutil.which("reprise")
        if found:
            return found
        raise FileNotFoundError(
            f"reprise binary not found on this node: tried {self.path!r}, $REPRISE_BIN, "
            "`reprise` on PATH (ship it with --ship-binary, docs/scale-out.md)"
        )


def run_reprise(binary: Binary, args: list[str], cwd: str | None = None) -> dict[str, Any]:
    """Runs `reprise ARGS` and returns argv, returncode, stdout, stderr and the node's host name.

    A binary that cannot be found or started gives returncode 127 and the reason in stderr; the
    caller decides what a nonzero code means.
    """
    host = os.uname().nodename
    try:
        exe = binary.resolve()
    except (FileNotFoundError, ImportError) as error:
        return {"argv": ["reprise", *args], "returncode": 127, "stdout": "", "stderr": str(error), "node": host}
    try:
        done = subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, check=False)
    except OSError as error:
        return {"argv": [exe, *args], "returncode": 127, "stdout": "", "stderr": str(error), "node": host}
    return {"argv": [exe, *args], "returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "node": host}


def error_line(text: str) -> str:
    """The one line that says why a command failed: reprise's `reprise: …` or `Error: …` line in
    its stderr, else the first non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("reprise:", "Error:")):
            return line
    return lines[0] if lines else ""
