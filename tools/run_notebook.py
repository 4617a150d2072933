#!/usr/bin/env python3
"""Executes docs/examples/analysis.ipynb headless (nbclient) and checks that it made its plots.

usage: run_notebook.py [OUT.ipynb]   (the executed copy; default: a temporary file)
Exits non-zero when a cell fails or fewer than 6 figures come out. Run by `make test`.
"""
import os
import sys
import tempfile

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "docs", "examples", "analysis.ipynb")


def main():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
    client.execute()
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    out = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else os.path.join(tempfile.mkdtemp(), "analysis.executed.ipynb")
    nbformat.write(nb, out)
    if errors or images < 6:
        sys.exit(f"FAIL notebook: {len(errors)} error(s), {images} figure(s) (expected ≥ 6); executed copy: {out}")
    print(f"ok  docs/examples/analysis.ipynb: {len(nb.cells)} cells, {images} figures; executed copy: {out}")


if __name__ == "__main__":
    main()
