"""The client's subcommands of ``mio-nb``: swap, faces, batch, history, resume.

Every one takes ``--base-url``/``--token`` (or MIOCREATE_* variables, as the client does) and,
with no credentials, uses the local sandbox and says so on stderr. Exit codes (see EXIT_CODES)
let scripts tell what happened.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli import subcommand
from .errors import (
    AuthError,
    CorruptFileError,
    FileError,
    InsufficientCreditsError,
    InvalidArgumentError,
    MioError,
    MissingFileError,
    MultipleFacesError,
    OutputFolderError,
    RateLimitError,
)
from .formats import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from .protocol import Code
from .results import FaceSet

if TYPE_CHECKING:
    from .client import Client

EXIT_OK = 0
EXIT_FAILED = 1  # the swap failed, or some batch jobs failed
EXIT_USAGE = 2
EXIT_AUTH = 3  # no usable credentials (and no sandbox), or the token was refused
EXIT_CREDITS = 4  # 801: credits ran out (a batch can be resumed by running it again)
EXIT_RATE_LIMITED = 5  # 802 did not lift while the client waited
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""exit codes:
  {EXIT_OK}    done
  {EXIT_FAILED}    the swap failed, or some batch jobs failed (see the records printed)
  {EXIT_USAGE}    bad arguments, unusable input files or output folder (nothing was sent)
  {EXIT_AUTH}    no credentials and no sandbox, or the token was refused
  {EXIT_CREDITS}    not enough credits (801): add credits and run the same command again
  {EXIT_RATE_LIMITED}    rate limited (802) for longer than the client waits
  {EXIT_INTERRUPTED}  interrupted: submitted tasks keep running; see `mio-nb resume TASK_ID`
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_CODES
    parser.add_argument("--base-url", help="API base URL (default: $MIOCREATE_BASE_URL or the API)")
    parser.add_argument("--token", help="access token (default: $MIOCREATE_TOKEN, ...)")
    parser.add_argument(
        "--output-dir", default="mio_outputs", help="results and the task journal (%(default)s)"
    )
    parser.add_argument(
        "--record",
        metavar="DIR",
        help="write every exchange, secrets redacted, to DIR for a bug report ($MIO_NB_RECORD)",
    )


def _client(args: argparse.Namespace, **options: Any) -> Client:
    """The client the arguments ask for; else credentials; else the sandbox (said on stderr)."""
    from .backend import connect
    from .client import Client

    options.setdefault("output_dir", args.output_dir)
    options.setdefault("record", getattr(args, "record", None))
    given = None
    if args.token or args.base_url:
        given = Client(base_url=args.base_url, token=args.token, **options)
    return connect(given, stream=sys.stderr, **({} if given else options))


_FILE_REFUSALS = (Code.FILE_ERROR, Code.UNSUPPORTED_FORMAT, Code.FILE_TOO_LARGE)
_USAGE_CODES = (Code.BAD_PARAMETER, Code.UNSUPPORTED_FORMAT, Code.FILE_TOO_LARGE)


def _exit_code(error: MioError) -> int:
    """The documented exit code of a client error."""
    for kind, code in (
        (AuthError, EXIT_AUTH),
        (InsufficientCreditsError, EXIT_CREDITS),
        (RateLimitError, EXIT_RATE_LIMITED),
    ):
        if isinstance(error, kind):
            return code
    refused_early = isinstance(
        error, (CorruptFileError, MissingFileError, OutputFolderError, InvalidArgumentError)
    ) or (isinstance(error, FileError) and error.code in _FILE_REFUSALS)
    usage = (error.code in _USAGE_CODES or refused_early) and error.task_id is None
    return EXIT_USAGE if usage else EXIT_FAILED


def _register(
    name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def decorate(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        def add(parser: argparse.ArgumentParser) -> None:
            arguments(parser)
            _common(parser)

        # Errors become a message and an exit code in one place: cli.main.
        run.arguments = add  # type: ignore[attr-defined]
        subcommand(name, help)(run)
        return run

    return decorate


# -- swap -----------------------------------------------------------------------------------


def _face_pair(text: str) -> tuple[int, str]:
    """``"3=b.jpg"`` -> ``(3, "b.jpg")`` (argparse type of ``--pair``)."""
    number, sep, path = text.partition("=")
    if not sep or not path or not number.strip().isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not FACE=PATH: write the face's number (1, 2, ... as `mio-nb faces` "
            "shows them), '=', then the new face's file, e.g. --pair 1=a.jpg"
        )
    return int(number), path


def _face_number(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a face number: faces are numbered 1, 2, ... (see `mio-nb faces`)"
        )
    return int(text)


def _swap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "One face: mio-nb swap ORIGINAL NEW. A group photo or video: choose the face by its "
        "number (see `mio-nb faces ORIGINAL`): mio-nb swap ORIGINAL NEW --face 2, or several: "
        "mio-nb swap ORIGINAL --pair 1=a.jpg --pair 3=b.jpg."
    )
    parser.add_argument("original", help="image or video whose face is replaced")
    parser.add_argument("new_face", nargs="?", help="photo of the new face")
    parser.add_argument(
        "--face", type=_face_number, help="the number of the face to replace (1, 2, ...)"
    )
    parser.add_argument(
        "--pair",
        action="append",
        type=_face_pair,
        default=[],
        metavar="N=PATH",
        help="replace face N with the face in PATH (repeat for several faces)",
    )
    parser.add_argument("-o", "--out", help="also copy the result to this path")
    parser.add_argument("--hd", action="store_true", help="high quality mode (is_hd=1)")


def check_out_path(out: str | None) -> None:
    """OutputFolderError (before anything is paid) unless ``out`` can be written."""
    if not out:
        return
    target = Path(out)
    if target.is_dir():
        raise OutputFolderError(f"-o {out} is a folder; give a file name.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFolderError(f"-o {out}: the folder '{parent}' does not exist.")
    if not os.access(parent, os.W_OK):
        raise OutputFolderError(f"-o {out}: the folder '{parent}' cannot be written.")


def _copy_result(src: Path, out: str, task_id: int | None) -> Path:
    try:
        return Path(shutil.copyfile(src, out))
    except OSError as e:
        raise OutputFolderError(
            f"The result is saved at {src}, but copying it to {out} failed: {e.strerror or e}.",
            task_id=task_id,
            hint=f"Copy {src} yourself; nothing is paid again.",
        ) from None


def _usage(message: str) -> int:
    print(f"mio-nb swap: {message}", file=sys.stderr)
    return EXIT_USAGE


def _chosen_pairs(args: argparse.Namespace) -> dict[int, str] | str:
    """Face number -> new face file, from NEW with --face or from --pair; or why not."""
    if args.pair and (args.new_face or args.face):
        return "give either NEW (with --face N) or --pair N=PATH, not both"
    if args.pair:
        pairs: dict[int, str] = {}
        for number, path in args.pair:
            if number in pairs:
                return f"face {number} is paired twice: give one --pair per face"
            pairs[number] = path
        return pairs
    if not args.new_face:
        return "give the new face: mio-nb swap ORIGINAL NEW [--face N], or --pair N=PATH"
    return {args.face: args.new_face} if args.face else {}


@_register("swap", "swap the face of an image or a video", _swap_arguments)
def _run_swap(args: argparse.Namespace) -> int:
    check_out_path(args.out)
    pairs = _chosen_pairs(args)
    if isinstance(pairs, str):
        return _usage(pairs)
    for path in [args.original, *([args.new_face] if args.new_face else []), *pairs.values()]:
        if not Path(path).is_file():
            return _usage(f"{path}: no such file (nothing was sent)")
    client = _client(args)
    if not pairs:
        try:
            result = client.swap(args.original, args.new_face, hd=args.hd)
        except MultipleFacesError as e:
            if "new face" in str(e).lower():
                raise
            print(
                f"mio-nb: {Path(args.original).name} shows several faces: choose one with "
                f"--face N, or several with --pair N=PATH. `mio-nb faces {args.original}` "
                "lists them by number with a picture.",
                file=sys.stderr,
            )
            return EXIT_USAGE
    else:
        faces = client.detect_faces(args.original)
        unknown = sorted(n for n in pairs if n > len(faces))
        if unknown:
            shown = f"1 to {len(faces)}" if len(faces) else "none"
            return _usage(
                f"{Path(args.original).name} has no face {unknown[0]}: its faces are numbered "
                f"{shown} (see `mio-nb faces {args.original}`)"
            )
        chosen = {faces.face(number): path for number, path in pairs.items()}
        result = client.swap_faces(args.original, chosen, faceset=faces, hd=args.hd)
    path = result.path
    if args.out:
        path = _copy_result(result.path, args.out, result.task_id)
    print(path)
    return EXIT_OK


# -- faces ----------------------------------------------------------------------------------


def _faces_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("original", help="image or video")
    parser.add_argument(
        "--picture",
        "-o",
        "--out",
        dest="picture",
        help="save the picture of the numbered faces here (default: in the output folder)",
    )


@_register(
    "faces", "list the faces of an image or video by number, with a picture", _faces_arguments
)
def _run_faces(args: argparse.Namespace) -> int:
    check_out_path(getattr(args, "out", None) or getattr(args, "picture", None))
    client = _client(args)
    faces = client.detect_faces(args.original)
    n = len(faces)
    order = ", numbered in reading order" if n > 1 else ""
    print(
        f"{n} face{'s' if n != 1 else ''} in {Path(args.original).name} "
        f"(task {faces.task_id}){order}"
    )
    for face in faces:
        where = ""
        if face.box is not None:
            x, y, w, h = (round(v) for v in face.box)
            where = f"  at x={x} y={y} ({w}x{h})"
        print(f"  face {face.number}: {face.width}x{face.height}{where}  crop {face.path}")
    if n:
        picture = Path(args.picture or Path(args.output_dir) / f"faces-{faces.task_id}.png")
        on_photo = faces.kind != "video" and any(face.box is not None for face in faces)
        figure = faces.plot(on=args.original) if on_photo else faces.plot()
        figure.savefig(picture)
        what = "on the original" if on_photo else "(crops)"
        print(f"Numbered faces {what}: {picture}")
    if n > 1:
        print(
            f"Swap one: mio-nb swap {args.original} NEW --face 1; several: "
            f"mio-nb swap {args.original} --pair 1=A.jpg --pair 2=B.jpg"
        )
    return EXIT_OK


# -- batch ----------------------------------------------------------------------------------


def _batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "jobs",
        help="a CSV file with columns original,new_face (optional: face, hd; rows with a face "
        "index and the same original make one multi-face job; paths relative to the CSV), or a "
        "folder of originals swapped with --new-face",
    )
    parser.add_argument("--new-face", help="the new face for every original of a folder")
    parser.add_argument("--workers", type=int, default=4, help="jobs at once (%(default)s)")
    parser.add_argument("--hd", action="store_true", help="high quality mode for every job")
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="pay again for jobs that failed for good in an earlier run (no face...) or whose "
        "earlier request went unanswered (the task may exist)",
    )
    parser.add_argument("-o", "--out", dest="output_dir_alias", help="same as --output-dir")


def read_jobs(source: Path, new_face: str | None) -> list[tuple[Any, ...]]:
    """Batch jobs from a CSV file or a folder (see ``mio-nb batch --help``); every problem of
    the CSV or folder is an InvalidArgumentError/MissingFileError (exit 2, nothing sent)."""
    if source.is_dir():
        if not new_face:
            raise InvalidArgumentError(f"{source} is a folder of originals: it needs --new-face.")
        try:
            files = sorted(
                p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
            )
        except OSError as e:
            raise FileError(f"Cannot list the folder {source}: {e.strerror or e}.") from None
        if not files:
            raise InvalidArgumentError(f"The folder {source} has no picture or video.")
        return [(str(p), new_face) for p in files]
    if not source.exists():
        raise MissingFileError(f"The jobs file '{source}' does not exist.")
    try:
        with open(source, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            fields = set(rows[0].keys()) if rows else set()
    except UnicodeDecodeError:
        raise InvalidArgumentError(
            f"{source} is not UTF-8 text.", hint="Save the CSV as UTF-8 and try again."
        ) from None
    except (OSError, csv.Error) as e:
        raise InvalidArgumentError(f"{source} cannot be read as a CSV file ({e}).") from None
    missing = {"original", "new_face"} - {str(k) for k in fields}
    if not rows or missing:
        raise InvalidArgumentError(
            f"{source} needs the columns original,new_face and at least one row"
            + (f" (missing: {', '.join(sorted(missing))})." if rows else ".")
        )
    jobs: list[tuple[Any, ...]] = []
    multi: dict[str, dict[int, str]] = {}
    for number, row in enumerate(rows, start=2):
        cell = {k: (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        if not cell.get("original") or not cell.get("new_face"):
            raise InvalidArgumentError(
                f"{source}, line {number}: original and new_face are needed."
            )
        original = str(source.parent / cell["original"])
        new = str(source.parent / cell["new_face"])
        hd = cell.get("hd", "").lower() in ("1", "true", "yes")
        face = cell.get("face", "")
        if face:
            if not face.isdigit() or int(face) < 1:
                raise InvalidArgumentError(
                    f"{source}, line {number}: face must be a face number (1, 2, ... as "
                    f"`mio-nb faces` lists them), not '{face}'."
                )
            if original not in multi:
                multi[original] = {}
                jobs.append((original, multi[original], hd))
            multi[original][int(face) - 1] = new  # face N is faces[N - 1]
        else:
            jobs.append((original, new, hd))
    return jobs


@_register("batch", "swap many files: resumable, inside the API's limits", _batch_arguments)
def _run_batch(args: argparse.Namespace) -> int:
    if args.output_dir_alias:
        args.output_dir = args.output_dir_alias
    jobs = read_jobs(Path(args.jobs), args.new_face)
    if args.hd:
        jobs = [(job[0], job[1], True) for job in jobs]
    client = _client(args)
    records = client.batch(jobs, workers=args.workers, retry_failed=args.retry_failed)
    for record in records:
        print(record)
    done = sum(r.ok for r in records)
    not_run = sum(r.status == "not run" for r in records)
    print(f"{done} of {len(records)} done", file=sys.stderr)
    refused = [
        r
        for r in records
        if isinstance(r.error, MioError) and r.task_id is None and _exit_code(r.error) == EXIT_USAGE
    ]
    if records and len(refused) == len(records):
        return EXIT_USAGE  # every job refused before anything was sent
    if not_run:
        print(
            f"Credits ran out: {not_run} jobs were not run. Add credits, then run the same "
            "command again: finished jobs are skipped and submitted ones are waited for.",
            file=sys.stderr,
        )
        return EXIT_CREDITS
    return EXIT_OK if done == len(records) else EXIT_FAILED


# -- history and resume ---------------------------------------------------------------------


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", type=int, default=20, help="how many of the latest (%(default)s)")


@_register("history", "list the tasks of the journal in the output folder", _history_arguments)
def _run_history(args: argparse.Namespace) -> int:
    from .journal import JOURNAL_NAME, Journal

    entries = Journal(Path(args.output_dir) / JOURNAL_NAME).entries()
    for e in entries[-args.n :]:
        task = e.task_id if e.task_id is not None else "-"
        detail = e.files[0] if e.files else (e.error or {}).get("message", "")
        if e.task_id is None and e.attempt:
            detail = f"attempt {e.attempt[:8]}: {detail}"
        print(f"{e.when}  {task!s:>8}  {e.type:<18} {e.status:<11} {detail}")
    if not entries:
        print(f"No task in {Path(args.output_dir) / JOURNAL_NAME}", file=sys.stderr)
    if entries.skipped:
        print(
            f"The journal has unusable lines (torn or not entries): skipped {entries.skipped}.",
            file=sys.stderr,
        )
    return EXIT_OK


def _resume_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task_id", type=int, help="the task to wait for and save")


@_register("resume", "wait for a submitted task and save its result", _resume_arguments)
def _run_resume(args: argparse.Namespace) -> int:
    client = _client(args)
    result = client.task(args.task_id).wait()
    if isinstance(result, FaceSet):
        print(f"{len(result)} faces (task {args.task_id})")
    else:
        print(result.path)
    return EXIT_OK


# -- doctor (mio_nb.doctor) -----------------------------------------------------------------


def _run_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_cli

    return run_cli(args)


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    from .doctor import add_cli_arguments

    add_cli_arguments(parser)


_run_doctor.arguments = _doctor_arguments  # type: ignore[attr-defined]
subcommand("doctor", "check credentials, network, storage and the sandbox; creates no task")(
    _run_doctor
)
