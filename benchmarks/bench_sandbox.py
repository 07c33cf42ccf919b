"""Benchmark of the sandbox server, run as its own process (``python -m mio_nb.cli sandbox``).

Measures:
- the peak growth of the server's resident memory while it receives a 500 MB upload streamed
  from this process (the body is generated on the fly, nothing is read from disk);
- the upload's throughput;
- the latency of a task-detail call (request overhead);
- image face-swap latency through the server for a 1 MP photo (task creation to success);
- get-face latency per image (1 MP portrait, 3-face group photo).

    .venv/bin/python benchmarks/bench_sandbox.py [--engine real|instant] [--upload-mb 500]

Prints a table with the targets and PASS/MISS; exits 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests
from PIL import Image

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.formats import MAX_UPLOAD_BYTES

TOKEN = "bench-token"


class Server:
    """``mio-nb sandbox`` in a subprocess on a free port."""

    def __init__(self, engine: str, data_dir: Path) -> None:
        cmd = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0"]
        cmd += ["--engine", engine, "--data-dir", str(data_dir), "--token", TOKEN]
        self.log = data_dir.parent / "server.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not line.startswith("MIOCREATE_BASE_URL="):
            self.proc.kill()
            raise RuntimeError(f"the sandbox did not start: {line!r}\n{self.log.read_text()}")
        self.base_url = line.split("=", 1)[1]
        self.ps = psutil.Process(self.proc.pid)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)

    def ok(self, path: str, body: dict) -> dict:
        env = self.session.post(self.base_url + path, json=body, timeout=60).json()
        if env["code"] != 200:
            raise RuntimeError(f"{path}: {env}")
        return env["data"]

    def upload(self, path: Path) -> str:
        got = self.ok(P.UPLOAD_URL_PATH, {"file_name": path.name})
        requests.put(got["upload_url"], data=path.read_bytes(), timeout=60).raise_for_status()
        return got["key"]

    def run_task(self, path: str, body: dict, timeout: float = 300) -> tuple[float, dict]:
        t0 = time.perf_counter()
        task_id = self.ok(path, body)["task_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            env = self.session.get(
                self.base_url + P.TASK_DETAIL_PATH, params={"id": task_id}, timeout=60
            ).json()
            if env["code"] != 200:
                raise RuntimeError(f"task {task_id} failed: {env}")
            if env["data"]["status"] in (0, 3):
                return time.perf_counter() - t0, env["data"]["additional_data"]
            time.sleep(0.02)
        raise TimeoutError(f"task {task_id} did not finish")


class PeakRss(threading.Thread):
    """Samples a process's RSS (with its children) every few milliseconds."""

    def __init__(self, ps: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.ps = ps
        self.base = self.rss()
        self.peak = self.base
        self.done = threading.Event()

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)

    def growth(self) -> int:
        self.done.set()
        self.join()
        return self.peak - self.base


def body(total: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """A generated MP4-looking body of ``total`` bytes (a real header, then zeros)."""
    head = samples.sample_video().read_bytes()[:4096]
    zeros = bytes(piece)
    yield head
    sent = len(head)
    while sent < total:
        n = min(piece, total - sent)
        yield zeros[:n]
        sent += n


def one_megapixel(tmp: Path) -> Path:
    with Image.open(samples.grace_hopper()) as im:
        scale = (1_000_000 / (im.width * im.height)) ** 0.5
        big = im.convert("RGB").resize((round(im.width * scale), round(im.height * scale)))
    out = tmp / "grace-1mp.jpg"
    big.save(out, quality=92)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("real", "instant"), default="real")
    parser.add_argument("--upload-mb", type=float, default=MAX_UPLOAD_BYTES / 1e6)
    parser.add_argument("--repeat", type=int, default=3, help="runs per latency figure")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="mio-bench-") as tmp_name:
        tmp = Path(tmp_name)
        server = Server(args.engine, tmp / "data")
        try:
            # 1. A 500 MB streamed upload: server memory growth and throughput.
            total = int(args.upload_mb * 1e6)
            got = server.ok(P.UPLOAD_URL_PATH, {"file_name": "big.mp4"})
            watch = PeakRss(server.ps)
            watch.start()
            t0 = time.perf_counter()
            r = requests.put(
                got["upload_url"],
                data=body(total),
                headers={"Content-Length": str(total)},
                timeout=600,
            )
            seconds = time.perf_counter() - t0
            growth = watch.growth()
            r.raise_for_status()
            mb = growth / 2**20
            rows.append(
                (
                    f"upload {total / 1e6:.0f} MB: peak server RSS growth",
                    f"{mb:.1f} MiB",
                    "<= 32 MiB",
                    mb <= 32,
                )
            )
            rate = total / 1e6 / seconds
            rows.append(
                ("upload throughput (loopback)", f"{rate:.0f} MB/s", ">= 50 MB/s", rate >= 50)
            )

            # 1b. Downloading it back streams too (Range-capable GET with sendfile).
            url = server.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]
            watch = PeakRss(server.ps)
            watch.start()
            received = 0
            with requests.get(url, stream=True, timeout=600) as r:
                for piece in r.iter_content(1 << 20):
                    received += len(piece)
            mb = watch.growth() / 2**20
            ok = mb <= 32 and received == total
            rows.append(
                (
                    f"download {received / 1e6:.0f} MB: peak server RSS growth",
                    f"{mb:.1f} MiB",
                    "<= 32 MiB",
                    ok,
                )
            )

            # 2. Request overhead: task detail of an unknown id (answered at once).
            times = []
            for _ in range(50):
                t0 = time.perf_counter()
                server.session.get(server.base_url + P.TASK_DETAIL_PATH, params={"id": 1})
                times.append(time.perf_counter() - t0)
            p50 = statistics.median(times) * 1000
            rows.append(("API request (task detail), p50", f"{p50:.1f} ms", "<= 10 ms", p50 <= 10))

            # 3. Image face swap of a 1 MP photo, creation to success.
            main_key = server.upload(one_megapixel(tmp))
            face_key = server.upload(samples.astronaut())
            swap_times = []
            for _ in range(args.repeat):
                took, _ = server.run_task(
                    P.FACE_SWAP_PATH, {"main_key": main_key, "target_key": face_key}
                )
                swap_times.append(took)
            s = statistics.median(swap_times)
            rows.append(
                (
                    f"image swap 1 MP ({args.engine}), median of {args.repeat}",
                    f"{s:.2f} s",
                    "<= 5 s",
                    s <= 5,
                )
            )

            # 4. get-face per image.
            group_key = server.upload(samples.group_photo(faces=3))
            for name, key in (("1 MP portrait", main_key), ("3-face group photo", group_key)):
                runs = [
                    server.run_task(P.GET_FACE_PATH, {"main_key": key}) for _ in range(args.repeat)
                ]
                s = statistics.median(t for t, _ in runs)
                faces = len(runs[0][1])
                rows.append(
                    (f"get-face, {name} ({faces} faces), median", f"{s:.2f} s", "<= 2 s", s <= 2)
                )
        finally:
            server.stop()
    return print_rows(rows)


def print_rows(rows: list[tuple[str, str, str, bool]]) -> int:
    """Print (measure, value, target, met) rows as a table; 0 if every target is met, else 1."""
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  {'target':>12}  result")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>12}  {target:>12}  {'PASS' if ok else 'MISS'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
