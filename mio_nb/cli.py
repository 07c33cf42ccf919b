"""The ``mio-nb`` command line. Subcommands register themselves in ``SUBCOMMANDS``.

``mio-nb sandbox [--host 127.0.0.1] [--port N] [--data-dir D] [--token T] [--engine real|instant]``
serves the local sandbox API until Ctrl-C; the client's subcommands (swap, faces, batch, history,
resume) live in :mod:`mio_nb.commands`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

#: name -> (add_arguments(parser), run(args) -> exit code, one-line help). Other modules add
#: their subcommands here (``swap``, ``faces``, ``batch``, ``history``, ``resume``...).
SUBCOMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]
] = {}


def subcommand(
    name: str, help: str
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register ``run(args) -> int`` as a subcommand; its function attribute ``arguments``
    (``def arguments(parser)``), if set before registration, adds its options."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        SUBCOMMANDS[name] = (getattr(run, "arguments", lambda p: None), run, help)
        return run

    return register


def _sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (anyone who gets the token can then use the "
        "sandbox and read its files)",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port, 0 for a free one (default %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="uploads, results and tasks (default: $MIO_NB_SANDBOX_DIR or ~/.cache/mio-nb/sandbox)",
    )
    parser.add_argument(
        "--token", default=None, help="static access token (default: generated, kept)"
    )
    parser.add_argument("--engine", choices=("real", "instant"), default="real")
    parser.add_argument("--workers", type=int, default=4, help="task worker threads")
    parser.add_argument(
        "--retention-days",
        type=float,
        default=7.0,
        help="remove tasks and files older than this; clients then get 702 (default %(default)s)",
    )
    server = parser.add_argument_group("connections")
    server.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="open client connections at most (default 1024, fitted to the open-files limit)",
    )
    server.add_argument(
        "--idle-timeout",
        type=float,
        default=10.0,
        help="seconds an idle connection is kept, and a stalled request waited for "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--upload-quota-gb",
        type=float,
        default=20.0,
        help="disk space for uploads; beyond it uploads are refused with 704 (%(default)s GB)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    faults = parser.add_argument_group("fault injection (for tests and benchmarks; off by default)")
    faults.add_argument("--rate-limit-per-minute", type=int, help="answer 802 past N requests/min")
    faults.add_argument("--credits", type=int, help="answer 801 once N tasks were created")
    faults.add_argument("--task-seconds", type=float, default=0.0, help="every task takes T s")


def _run_sandbox(args: argparse.Namespace) -> int:
    from mio_nb.sandbox import Faults, Limits, Sandbox, default_data_dir

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        sb = Sandbox(
            port=args.port,
            data_dir=args.data_dir or default_data_dir(),
            token=args.token,
            engine=args.engine,
            host=args.host,
            workers=args.workers,
            retention_days=args.retention_days,
            allow_remote=args.allow_remote,
            upload_quota=int(args.upload_quota_gb * 1e9),
            limits=Limits(
                max_connections=args.max_connections,
                idle_timeout=args.idle_timeout,
                io_timeout=args.idle_timeout,
            ),
            faults=Faults(
                rate_limit_per_minute=args.rate_limit_per_minute,
                credits=args.credits,
                task_seconds=args.task_seconds,
            ),
        )
    except (ImportError, ValueError) as exc:
        print(f"mio-nb sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mio-nb sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"MIOCREATE_BASE_URL={sb.base_url}", flush=True)
    print(f"MIOCREATE_TOKEN={sb.token}", flush=True)
    print(f"client id: {sb.client_id}  data dir: {sb.data_dir}", flush=True)
    print("Serving; Ctrl-C to stop.", flush=True)
    try:
        serve_until_stopped()
    finally:
        sb.stop()
    return 0


def serve_until_stopped() -> None:
    """Block a server's foreground process until Ctrl-C or SIGTERM."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not done.wait(0.5):
            pass


_run_sandbox.arguments = _sandbox_arguments  # type: ignore[attr-defined]
subcommand("sandbox", "serve the local MioCreate-compatible sandbox API")(_run_sandbox)


def build_parser() -> argparse.ArgumentParser:
    from . import commands  # registers swap, faces, batch, history, resume

    parser = argparse.ArgumentParser(
        prog="mio-nb",
        description="Face swapping with the MioCreate Face Swap API.",
        epilog=commands.EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (add_arguments, run, help_text) in SUBCOMMANDS.items():
        sub = subs.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(_run=run)
    return parser


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a client command as Ctrl-C does: the journal says what may exist, partial
    downloads are removed, the exit code is 130."""
    raise KeyboardInterrupt("terminated (SIGTERM)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mio-nb``: every failure is a message on stderr and a documented exit code (see
    ``commands.EXIT_CODES``), never a traceback."""
    from .commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
    from .errors import MioError

    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    if threading.current_thread() is threading.main_thread() and args.command != "sandbox":
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt as e:
        print(f"\nmio-nb: {e or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MioError as e:
        from .commands import _exit_code

        print(f"mio-nb: {e}", file=sys.stderr)
        return _exit_code(e)
    except (OSError, ValueError, UnicodeError) as e:  # an input or folder the checks missed
        print(f"mio-nb: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # a bug: say so in one line, the details go to the log
        logging.getLogger("mio_nb.cli").debug("Unexpected error", exc_info=True)
        print(
            f"mio-nb: unexpected error ({type(e).__name__}: {e}); please report it to mio-nb.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    # Run as ``python -m mio_nb.cli``: use the importable module, whose SUBCOMMANDS the other
    # modules register into, not this ``__main__`` copy of it.
    from mio_nb.cli import main as _main

    sys.exit(_main())
