"""Finds the `reprise` binary on the driver and ships it to the workers."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .runner import Binary

REPO_ROOT = Path(__file__).resolve().parents[2]
_TEMPORARY: list[str] = []  # the directories binary_for made for --ship-binary, removed by cleanup()


def locate(explicit: str | None = None) -> str:
    """The driver's `reprise`: `explicit` (--reprise), else $REPRISE_BIN, else `reprise` on PATH,
    else `.build/release/reprise`, then `.build/debug/reprise` in this repository.

    A bare name (no `/`) that is not on the driver's PATH is returned as it is, for the nodes to
    find on theirs. Anything else that does not exist raises FileNotFoundError.
    """
    if explicit:
        if os.sep not in explicit:
            return shutil.which(explicit) or explicit
        if not os.path.isfile(explicit):
            raise FileNotFoundError(f"--reprise {explicit}: no such file")
        return os.path.abspath(explicit)
    env = os.environ.get("REPRISE_BIN")
    if env:
        if not os.path.isfile(env):
            raise FileNotFoundError(f"$REPRISE_BIN={env}: no such file")
        return os.path.abspath(env)
    on_path = shutil.which("reprise")
    if on_path:
        return on_path
    for build in ("release", "debug"):
        candidate = REPO_ROOT / ".build" / build / "reprise"
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(
        "reprise binary not found: give --reprise PATH or set REPRISE_BIN, put `reprise` on PATH, "
        "or build it (`swift build -c release --product reprise`)"
    )


def binary_for(explicit: str | None, ship: bool) -> tuple[Binary, dict[str, Any]]:
    """The tasks' Binary and the runtime_env that goes with it.

    Without `ship` the runtime_env is empty and the tasks run the driver's path where it exists
    on their node (a local instance, a shared file system, the same install path), else
    $REPRISE_BIN or `reprise` on the node's PATH. With `ship` the binary is copied into a
    temporary package `reprise_bin` that the job's runtime_env (`py_modules`) uploads to the
    cluster once and unpacks on every node that runs a task; cleanup() removes it (cli.main
    calls it when the command ends, and it runs at exit in any case).
    """
    path = locate(explicit)
    if not ship:
        return Binary(path=path), {}
    if os.sep not in path:
        raise FileNotFoundError(f"--ship-binary: {path!r} is not on this machine's PATH")
    temporary = tempfile.mkdtemp(prefix="reprise-ray-bin-")
    _TEMPORARY.append(temporary)
    package = Path(temporary) / "reprise_bin"
    try:
        package.mkdir()
        (package / "__init__.py").write_text('"""The reprise binary, shipped by reprise_ray."""\n')
        shutil.copy2(path, package / "reprise")
    except OSError:
        cleanup()
        raise
    return Binary(path=path, shipped=True), {"py_modules": [str(package)]}


def cleanup() -> None:
    """Removes the temporary packages of --ship-binary (Ray uploaded them when it connected)."""
    while _TEMPORARY:
        shutil.rmtree(_TEMPORARY.pop(), ignore_errors=True)


atexit.register(cleanup)
