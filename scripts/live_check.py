"""The opt-in check against the real MioCreate API (``scripts/test.sh --live [--yes]``).

Skipped unless MIOCREATE_TOKEN (or MIOCREATE_CLIENT_ID and MIOCREATE_CLIENT_SECRET) is set, and
always under CI. Runs ``mio-nb doctor`` (free), then, after saying what it costs and asking (unless
``--yes``), one image swap and one get-face on the packaged portraits: two tasks, a few credits.
Everything is recorded, secrets redacted, to ``live-records/<time>/`` (or ``--record DIR``):
attach that folder's ``session-*.jsonl`` to a bug report.

Exit codes: 0 done or skipped, 1 a check or a task failed, 2 not confirmed (nothing spent).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.credentials import ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_TOKEN, Credentials
from mio_nb.doctor import doctor
from mio_nb.errors import MioError, MissingCredentialsError
from mio_nb.recording import Recorder

COST = (
    "The live check now runs 2 tasks on your account: 1 image swap (grace_hopper.jpg with the "
    "astronaut's face) and 1 get-face (grace_hopper.jpg). They cost a few credits."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/test.sh --live", description=__doc__)
    parser.add_argument("--yes", action="store_true", help="do not ask before spending credits")
    parser.add_argument("--record", metavar="DIR", help="where to write the record")
    args = parser.parse_args(argv)
    if os.environ.get("CI"):
        print("live check: skipped (never under CI).")
        return 0
    try:
        Credentials.resolve()
    except MissingCredentialsError:
        print(
            f"live check: skipped: set {ENV_TOKEN} (or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}) "
            "to run it against the real API."
        )
        return 0
    folder = Path(args.record or Path("live-records") / time.strftime("%Y%m%d-%H%M%S"))
    recorder = Recorder(folder)
    report = doctor(record=recorder, engine=False)
    print(report)
    if not report.ok:
        print("live check: stopped after doctor: fix the lines marked FIX first (nothing spent).")
        return 1
    print(COST)
    if not args.yes:
        if not sys.stdin.isatty():
            print("live check: not confirmed (no terminal to ask; pass --yes). Nothing spent.")
            return 2
        if input("Continue? [y/N] ").strip().lower() not in ("y", "yes"):
            print("live check: not confirmed. Nothing spent.")
            return 2
    failed = False
    with Client(record=recorder, output_dir=folder / "results", progress=False) as client:
        for what, run in (
            ("image swap", lambda: client.swap_image(samples.grace_hopper(), samples.astronaut())),
            ("get-face", lambda: client.detect_faces(samples.grace_hopper())),
        ):
            started = time.monotonic()
            try:
                result = run()
            except MioError as exc:
                failed = True
                print(f"FIX   {what:<12} {exc}")
                continue
            print(f"OK    {what:<12} {result!r} ({time.monotonic() - started:.0f} s)")
    print(f"Record (secrets redacted): {recorder.path}")
    print("If anything above differs from what you expected, attach that file to an issue.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
