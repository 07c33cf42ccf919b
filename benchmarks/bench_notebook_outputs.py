"""How much an executed notebook weighs once saved, and each of its outputs.

Runs a notebook of notebooks/ (default 01_quickstart.ipynb) on the local sandbox with nbclient,
in a scratch copy and with no MIOCREATE_* variables, as a newcomer's "Run All" would, then prints
the size of the saved .ipynb and of every output (kind, MIME types, bytes).

    python benchmarks/bench_notebook_outputs.py [NOTEBOOK ...]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def run(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns("mio_outputs"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
        env["MIO_NB_SANDBOX_DIR"] = str(Path(tmp) / "sandbox")
        nb = nbformat.read(work / name, as_version=4)
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute(env=env)
        saved = nbformat.writes(nb).encode()
        print(f"{name}: saved executed notebook {len(saved):,} bytes")
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            for output in cell.outputs:
                body = output.get("data") or {"stream": output.get("text", "")}
                sizes = ", ".join(f"{m} {len(json.dumps(v)):,}" for m, v in body.items())
                print(f"  code cell {i}: {output.output_type}: {sizes}")


if __name__ == "__main__":
    for notebook in sys.argv[1:] or ["01_quickstart.ipynb"]:
        run(notebook)
