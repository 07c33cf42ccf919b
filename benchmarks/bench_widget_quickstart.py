"""Benchmark: the quickstart as a newcomer runs it. ``scripts/demo.sh`` in a real JupyterLab
(through ``tests/browser/test_browser_demo.py``), then Run All: seconds from Run All to the
widget's result whole on screen (the image loaded in the page), by the page's own clock: from the
click on "Run All Cells" to the result picture's load event. The same run as the test saw it
(Playwright's clicks and polling included) is printed below it.

    .venv/bin/python benchmarks/bench_widget_quickstart.py

Prints the figure with its target and PASS/MISS; exits 1 on a miss. The time includes starting
the sandbox in the kernel, finding the faces of both portraits and the swap by the real engine:
on a busy machine it is slower (run it on a quiet one).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TARGET = 3.0
REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         str(REPO / "tests" / "browser" / "test_browser_demo.py")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    found = re.search(r"QUICKSTART_RESULT_SECONDS ([\d.]+)", run.stdout)
    if run.returncode != 0 or not found:
        print(run.stdout[-3000:], run.stderr[-2000:])
        print("quickstart Run All -> result on screen: not measured (the demo test failed)")
        return 1
    seconds = float(found.group(1))
    observed = re.search(r"QUICKSTART_OBSERVED_SECONDS ([\d.]+)", run.stdout)
    verdict = "PASS" if seconds <= TARGET else "MISS"
    name = "quickstart Run All -> result on screen"
    print(f"{name:<45} {seconds:6.2f} s  <= {TARGET:g} s  {verdict}")
    if observed:  # the same run, with Playwright's round trips at both ends
        print(f"{'  (as the test saw it)':<45} {float(observed.group(1)):6.2f} s")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
