"""Benchmark of client.batch against the sandbox (instant engine) in a separate process.

Measured side by side in one run:
- wall time of N image swaps with 5 workers vs a sequential loop of ``swap_image``
  (target speed-up >= 3.5x on this 2-core machine);
- with the sandbox limiting to 120 API requests in any sliding minute: the share of jobs that
  finish (target 100%) and the accepted request rate vs the limit (target >= 85%). A sliding
  window lets a client burst at the start of each window, so the rate is counted over whole
  windows: the requests accepted in the first two minutes of a run that lasts longer, / 2;
- the journal's cost per job in the 5-worker batch (its exclusive per-job claim across
  processes, its locked appends with fsync, its reads), in ms and as a share of the batch's
  time per job, and its bytes per job (printed; the speed-up above is measured with it on).

    .venv/bin/python benchmarks/bench_batch.py [--swaps 200] [--limited-jobs 60]

Prints a table with the targets and PASS/MISS; exits 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.journal import Journal

TOKEN = "bench-batch-token"
LIMIT = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """``mio-nb sandbox --engine instant`` in its own process (no GIL shared with the client)."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "mio_nb.cli", "sandbox", "--engine", "instant"),
                *("--port", str(self.port), "--data-dir", str(data_dir), "--token", TOKEN),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.base_url + "/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class JournalClock:
    """Seconds spent in a journal's claim, appends and reads (wrapped on the instance)."""

    def __init__(self, journal: Journal) -> None:
        self.seconds = {"claim": 0.0, "append": 0.0, "read": 0.0}
        clock = self

        def timed(name: str, fn):  # type: ignore[no-untyped-def]
            def run(*args, **kwargs):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    clock.seconds[name] += time.perf_counter() - started

            return run

        claim = journal.claim

        class _TimedClaim:
            def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                self._cm = claim(*args, **kwargs)

            def __enter__(self) -> None:
                started = time.perf_counter()
                self._cm.__enter__()
                clock.seconds["claim"] += time.perf_counter() - started

            def __exit__(self, *exc: object) -> None:
                started = time.perf_counter()
                self._cm.__exit__(*exc)
                clock.seconds["claim"] += time.perf_counter() - started

        journal.claim = _TimedClaim  # type: ignore[method-assign,assignment]
        journal._append = timed("append", journal._append)  # type: ignore[method-assign]
        journal.entries = timed("read", journal.entries)  # type: ignore[method-assign]


def photos(folder: Path, count: int) -> list[Path]:
    """``count`` distinct small one-face photos (256 px)."""
    base = [samples.grace_hopper(), samples.astronaut()]
    out = []
    for i in range(count):
        with Image.open(base[i % 2]) as im:
            img = im.convert("RGB").resize((256, 256))
        img.putpixel((i % 256, i // 256 % 256), (i % 251, 0, 0))  # distinct content
        path = folder / f"p{i}.jpg"
        img.save(path, quality=85)
        out.append(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--swaps", type=int, default=200)
    parser.add_argument("--limited-jobs", type=int, default=60)
    args = parser.parse_args()
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="mio-nb-bench-batch-") as tmp:
        work = Path(tmp)
        inputs = photos(work, args.swaps + 1)
        jobs = [(inputs[i], inputs[i + 1]) for i in range(args.swaps)]

        server = SandboxProcess(work / "sb1")
        try:
            seq_client = Client(
                base_url=server.base_url, token=TOKEN, output_dir=work / "seq", progress=False
            )
            started = time.perf_counter()
            for original, new in jobs:
                seq_client.swap_image(original, new, progress=False)
            sequential = time.perf_counter() - started

            batch_client = Client(
                base_url=server.base_url, token=TOKEN, output_dir=work / "batch", progress=False
            )
            journal_clock = JournalClock(batch_client.journal)
            started = time.perf_counter()
            records = batch_client.batch(jobs, workers=5, progress=False)
            parallel = time.perf_counter() - started
        finally:
            server.stop()
        assert all(r.ok for r in records), [str(r) for r in records if not r.ok][:3]
        speedup = sequential / parallel
        rows.append(
            (
                f"{args.swaps} image swaps: sequential {sequential:.1f} s, "
                f"batch of 5 workers {parallel:.1f} s",
                f"{speedup:.2f}x",
                ">= 3.5x",
                speedup >= 3.5,
            )
        )

        per_job = {k: v / len(jobs) * 1000 for k, v in journal_clock.seconds.items()}
        total_ms = sum(per_job.values())
        journal_bytes = batch_client.journal.path.stat().st_size / len(jobs)
        rows.append(
            (
                "journal per job (claim {claim:.2f} + appends {append:.2f} + reads {read:.2f} ms"
                ", {b:.0f} bytes)".format(**per_job, b=journal_bytes),
                f"{total_ms:.2f} ms = {total_ms / (parallel / len(jobs) * 1000) / 5:.0%}",
                "(of a worker's job time)",
                True,
            )
        )

        server = SandboxProcess(work / "sb2", "--rate-limit-per-minute", str(LIMIT))
        try:
            client = Client(
                base_url=server.base_url, token=TOKEN, output_dir=work / "limited", progress=False
            )
            refused: list[float] = []
            client.rate_limit_listeners.append(refused.append)
            accepted_at: list[float] = []
            client.answer_listeners.append(
                lambda _path, code: code != 802 and accepted_at.append(time.perf_counter())
            )
            limited_jobs = jobs[: args.limited_jobs]
            started = time.perf_counter()
            records = client.batch(limited_jobs, workers=5, progress=False)
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
        finished = sum(r.ok for r in records) / len(records)
        windows = 2 if elapsed > 120 else 1
        accepted = sum(t - started < 60 * windows for t in accepted_at)
        rate = accepted / windows
        rows.append(
            (
                f"limited to {LIMIT}/min: jobs finished ({len(limited_jobs)} jobs, "
                f"{elapsed:.0f} s, {len(refused)} answers 802)",
                f"{finished:.0%}",
                "100%",
                finished == 1.0,
            )
        )
        rows.append(
            (
                f"limited to {LIMIT}/min: accepted requests in the first {windows} min",
                f"{rate:.0f}/min = {rate / LIMIT:.0%}",
                ">= 85% of the limit",
                rate / LIMIT >= 0.85,
            )
        )
    width = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>16}  {target:<20}  {'PASS' if ok else 'MISS'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
