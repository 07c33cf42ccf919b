"""Load benchmark of the sandbox server (``mio-nb sandbox`` in its own process, instant engine).

Measures, in one run:
- 50 concurrent clients each doing a full image swap (two uploads, the task, polling at the
  client's own pace, the download): latency p50/p95/max, errors, duplicate tasks (counted in the
  sandbox's task table), and the requests per second the server served to them;
- the server's peak memory growth and answer time for a 140 KB 12000x12000 PNG (refused, 704).

    .venv/bin/python benchmarks/bench_sandbox_load.py [--clients 50] [--rounds 1]

Prints a table with the targets and PASS/MISS; exits 1 if any target is missed. Timings depend
on the machine's load.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from bench_sandbox import TOKEN, PeakRss, Server, print_rows

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.tasks import poll_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sandbox"))
from sandbox_helpers import huge_png


class Client:
    """One notebook's worth of client: a keep-alive API session, storage requests without the
    token, every request counted."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TOKEN}"
        self.storage = requests.Session()
        self.api_requests = 0
        self.storage_requests = 0

    def ok(self, path: str, body: dict) -> dict:
        self.api_requests += 1
        env = self.api.post(self.base_url + path, json=body, timeout=60).json()
        if env["code"] != 200:
            raise RuntimeError(f"{path}: {env}")
        return env["data"]

    def upload(self, data: bytes, name: str) -> str:
        got = self.ok(P.UPLOAD_URL_PATH, {"file_name": name})
        self.storage_requests += 1
        self.storage.put(got["upload_url"], data=data, timeout=60).raise_for_status()
        return got["key"]

    def swap(self, main: bytes, face: bytes) -> float:
        t0 = time.perf_counter()
        main_key = self.upload(main, "main.jpg")
        face_key = self.upload(face, "face.png")
        task_id = self.ok(P.FACE_SWAP_PATH, {"main_key": main_key, "target_key": face_key})
        task_id = task_id["task_id"]
        while True:
            time.sleep(poll_interval(time.perf_counter() - t0))
            self.api_requests += 1
            env = self.api.get(
                self.base_url + P.TASK_DETAIL_PATH, params={"id": task_id}, timeout=60
            ).json()
            if env["code"] != 200:
                raise RuntimeError(f"task {task_id}: {env}")
            if env["data"]["status"] in (0, 3):
                break
        self.storage_requests += 1
        r = self.storage.get(env["data"]["additional_data"]["merge_url"], timeout=60)
        r.raise_for_status()
        if not r.content.startswith(b"\x89PNG"):
            raise RuntimeError("the result is not a PNG")
        return time.perf_counter() - t0


def concurrent_swaps(server: Server, clients: int) -> dict:
    main = samples.grace_hopper().read_bytes()
    face = samples.astronaut().read_bytes()
    workers = [Client(server.base_url) for _ in range(clients)]
    times: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def run(client: Client) -> None:
        start.wait()
        try:
            times.append(client.swap(main, face))
        except Exception as exc:
            errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=run, args=(c,)) for c in workers]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    api = sum(c.api_requests for c in workers)
    storage = sum(c.storage_requests for c in workers)
    return {
        "times": sorted(times),
        "errors": errors,
        "wall": wall,
        "api": api,
        "all": api + storage,
    }


def api_capacity(server: Server, clients: int, seconds: float = 3.0) -> tuple[float, int]:
    """Requests per second when ``clients`` ask for a task's detail back to back, and errors."""
    task_id = 1  # the warm-up swap's task
    counts = [0] * clients
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        client = Client(server.base_url)
        url = server.base_url + P.TASK_DETAIL_PATH
        while time.perf_counter() < stop:
            try:
                client.api.get(url, params={"id": task_id}, timeout=30).json()
                counts[i] += 1
            except Exception as exc:
                errors.append(repr(exc)[:200])
                return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0), len(errors)


def swap_tasks(data_dir: Path) -> int:
    db = sqlite3.connect(f"file:{data_dir / 'tasks.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM tasks WHERE type = 'face-swap'").fetchone()[0]
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="bursts of --clients swaps")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="mio-bench-load-") as tmp_name:
        data_dir = Path(tmp_name) / "data"
        server = Server("instant", data_dir)
        try:
            Client(server.base_url).swap(  # warm-up, not counted below
                samples.grace_hopper().read_bytes(), samples.astronaut().read_bytes()
            )
            before = swap_tasks(data_dir)
            cpu0 = server.ps.cpu_times()
            runs = [concurrent_swaps(server, args.clients) for _ in range(args.rounds)]
            cpu1 = server.ps.cpu_times()
            cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
            times = sorted(t for r in runs for t in r["times"])
            errors = [e for r in runs for e in r["errors"]]
            created = swap_tasks(data_dir) - before
            n = args.clients * args.rounds
            p50 = statistics.median(times) if times else float("nan")
            p95 = times[max(0, round(0.95 * len(times)) - 1)] if times else float("nan")
            label = f"{args.clients} concurrent image swaps (instant)"
            rows.append((f"{label}: p50", f"{p50:.2f} s", "-", True))
            rows.append((f"{label}: p95", f"{p95:.2f} s", "<= 1.5 s", p95 <= 1.5))
            rows.append((f"{label}: max", f"{times[-1]:.2f} s" if times else "-", "-", True))
            rows.append((f"{label}: errors", str(len(errors)), "0", not errors))
            dupes = created - (n - len(errors))
            rows.append((f"{label}: duplicate tasks", str(dupes), "0", dupes == 0))
            wall = sum(r["wall"] for r in runs)
            api_rate = sum(r["api"] for r in runs) / wall
            all_rate = sum(r["all"] for r in runs) / wall
            rows.append(
                (
                    "API requests served per second (those clients)",
                    f"{api_rate:.0f}/s",
                    "report",
                    True,
                )
            )
            rows.append(
                ("all requests (API + storage) per second", f"{all_rate:.0f}/s", "report", True)
            )
            rate, failed = api_capacity(server, args.clients)
            rows.append(
                (
                    f"API capacity: {args.clients} clients asking back to back",
                    f"{rate:.0f}/s",
                    "report",
                    failed == 0,
                )
            )
            rows.append(("server CPU time per swap", f"{cpu / n * 1000:.0f} ms", "report", True))
            for e in errors[:5]:
                print("error:", e, file=sys.stderr)

            # The 12000x12000 PNG: refused from its header, no decoding.
            png = huge_png(12000, 12000)
            got = server.ok(P.UPLOAD_URL_PATH, {"file_name": "huge.png"})
            watch = PeakRss(server.ps)
            watch.start()
            t0 = time.perf_counter()
            r = requests.put(got["upload_url"], data=png, timeout=120)
            took = time.perf_counter() - t0
            growth = watch.growth() / 2**20
            refused = r.status_code == 400 and r.json().get("code") == 704
            size = f"{len(png) / 1000:.0f} KB"
            rows.append(
                (
                    f"12000x12000 PNG ({size}): answer",
                    "704" if refused else f"HTTP {r.status_code}",
                    "704",
                    refused,
                )
            )
            rows.append(("12000x12000 PNG: time to refuse", f"{took:.2f} s", "<= 1 s", took <= 1))
            rows.append(
                (
                    "12000x12000 PNG: peak server RSS growth",
                    f"{growth:.1f} MiB",
                    "<= 64 MiB",
                    growth <= 64,
                )
            )
        finally:
            server.stop()
    return print_rows(rows)


if __name__ == "__main__":
    sys.exit(main())
