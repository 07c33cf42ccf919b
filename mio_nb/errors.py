"""Exceptions of the mio-nb client: one class per API code under :class:`MioError`.

Every error carries the API ``code``, the server's ``message``, the ``task_id`` where there is one
and a ``hint``: a sentence telling the user what to do next. ``str(error)`` shows all of them::

    try:
        client.swap_image("cup.png", "me.jpg")
    except NoFaceError as e:
        print(e.code, e.hint)        # 602 No face was found ... Choose a photo where ...

This module is the one place of the person-facing wording of every error: each class says what
happened (``said``, where the server's message is not shown) and what to do (``default_hint``),
leaving open the words for the next step, which depend on where the person reads it
(``{again}``: "try again" in code, "press Swap again" in the widget; see :class:`Place`).
``error.hint`` is that wording for code; ``error.hint_for(place)`` and ``error.words(place)``
for other places (the widget's, in :mod:`mio_nb.explain`). The text never contains the API token.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import ClassVar

from .formats import MAX_UPLOAD_WORDS, accepted_names
from .protocol import Code


@dataclass(frozen=True)
class Place:
    """Where a person reads an error, and that place's words for what to do next: the error
    classes' sentences leave them open as ``{again}``, ``{resume}``, ``{reupload}``, ``{tool}``,
    ``{looked_in}`` (and ``{id}``, ``{task}``: the task concerned)."""

    #: Do the same once more: "try again", "press Swap again".
    again: str
    #: Keep waiting for a task that still runs on the server.
    resume: str
    #: Give again a file whose upload expired.
    reupload: str
    #: What holds the credentials: "client", "widget".
    tool: str
    #: Where a face was looked for.
    looked_in: str
    #: Swaps name each face of the original (``swap_faces``): several faces can only be in a
    #: new face.
    face_by_face: bool = False

    def fill(self, template: str, task_id: int | None = None) -> str:
        """``template`` with this place's words and the task's id filled in."""
        words = {k: v for k, v in asdict(self).items() if isinstance(v, str)}
        text = _fill(_fill(template, words), task_words(task_id))
        return text[:1].upper() + text[1:]


def task_words(task_id: int | None) -> dict[str, str]:
    """``{id}`` and ``{task}`` of a hint: the task concerned, once known."""
    task = f"Task {task_id}" if task_id is not None else "The task"
    return {"id": str(task_id) if task_id is not None else "ID", "task": task}


def _fill(template: str, words: dict[str, str]) -> str:
    # Only {name} of known names: code in a hint ("{faces[0]: new_face}") stays as it is.
    return re.sub(r"\{(\w+)\}", lambda m: words.get(m.group(1), m.group(0)), template)


#: Python code and the command line.
IN_CODE = Place(
    again="try again",
    resume="resume with client.task({id}).wait()",
    reupload="upload the file again and use the new key",
    tool="client",
    looked_in="the original or a new face",
)

#: Where a task-creating request may have reached the server (timeout, drop or 5xx after
#: sending): never repeated; this wording replaces the class's.
TASK_MAY_EXIST = (
    "The request to create the task may have reached the server, so a task may exist (and be "
    "charged) although no task id came back. It was not sent again: check client.history() "
    "(recorded there as 'unconfirmed') and your MioCreate task list before you {again}."
)
TASK_MAY_EXIST_HINT = IN_CODE.fill(TASK_MAY_EXIST)


class MioError(Exception):
    """Base class of every error raised by the mio-nb client.

    ``code`` is the API's envelope code (or an HTTP status where the server sent no envelope),
    ``message`` what the server (or the client) said, ``task_id`` the task concerned if any,
    ``hint`` what to do about it. ``task_may_exist`` is True when a task-creating request may
    have reached the server although no answer came back (the client never repeats it).

    Every subclass words itself: ``default_hint`` (what to do) and, where a person may not see
    the server's message, ``said`` (what happened); both may leave the words of :class:`Place`
    open. The hint in code is ``said`` then ``default_hint``, unless the raiser gave its own.
    """

    default_code: ClassVar[int | None] = None
    #: What happened, in a person's words; None where the error's own message says it.
    said: ClassVar[str | None] = None
    #: What to do next (a template over the words of :class:`Place`).
    default_hint: ClassVar[str] = "See the message above; if it persists, report it to mio-nb."

    def __init__(
        self,
        message: str = "",
        *,
        code: int | None = None,
        task_id: int | None = None,
        hint: str | None = None,
        http_status: int | None = None,
        task_may_exist: bool = False,
    ) -> None:
        self.code = code if code is not None else self.default_code
        self.message = message
        self.task_id = task_id
        self._hint = hint  # None: the class's wording
        self.http_status = http_status
        self.task_may_exist = task_may_exist
        super().__init__(message)

    @property
    def hint(self) -> str:
        """What to do next, in code's words (:data:`IN_CODE`)."""
        return self.hint_for(IN_CODE)

    @hint.setter
    def hint(self, value: str) -> None:
        self._hint = value

    def wording(self, place: Place) -> tuple[str | None, str]:
        """The templates of (what happened, what to do) for this error read in ``place``."""
        return self.said, self.default_hint

    def hint_for(self, place: Place) -> str:
        """The hint in ``place``'s words: what happened (where the class says it) and what to
        do, or the task-may-exist warning, or the hint the raiser gave."""
        if self.task_may_exist:
            return place.fill(TASK_MAY_EXIST)
        if self._hint is not None:  # word for word, but for its task ({id}: often known later)
            return _fill(self._hint, task_words(self.task_id))
        return " ".join(place.fill(t, self.task_id) for t in self.wording(place) if t is not None)

    def words(self, place: Place) -> str:
        """One text for a person who sees nothing else (the widget): the hint in ``place``'s
        words, after the error's own message where the class's wording does not say what
        happened."""
        if not self.task_may_exist and (self._hint is not None or self.wording(place)[0] is None):
            code = f" (code {self.code})" if self.code is not None else ""
            said = (self.message or type(self).__name__).rstrip(".")
            return f"{said}{code}. {self.hint_for(place)}"
        return self.hint_for(place)

    def __str__(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"[{self.code}]")
        parts.append(self.message or type(self).__name__)
        if self.task_id is not None:
            parts.append(f"(task {self.task_id})")
        text = " ".join(parts)
        if self.hint:
            text += f"\n  -> {self.hint}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"task_id={self.task_id!r})"
        )

    def __reduce__(self):  # keep errors picklable (multiprocessing, pytest-xdist)
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.code,
                self.task_id,
                self._hint,
                self.http_status,
                self.task_may_exist,
            ),
        )


def _rebuild(cls, message, code, task_id, hint, http_status, task_may_exist):
    err = cls.__new__(cls)
    MioError.__init__(
        err,
        message,
        code=code,
        task_id=task_id,
        hint=hint,
        http_status=http_status,
        task_may_exist=task_may_exist,
    )
    return err


class BadRequestError(MioError):
    """400: a request parameter was rejected (or the client was asked for something invalid)."""

    default_code = 400
    default_hint = (
        "A parameter was rejected. Check the inputs; if they look right, this is likely a bug "
        "in mio-nb: please report it with this message."
    )


class AuthError(MioError):
    """401: the token is missing, invalid or expired."""

    default_code = 401
    said: ClassVar[str | None] = "The API refused the token (invalid or expired)."
    default_hint = (
        "Set a fresh MIOCREATE_TOKEN, or MIOCREATE_CLIENT_ID and MIOCREATE_CLIENT_SECRET so the "
        "client fetches and renews tokens itself, then create the {tool} again."
    )


class MissingCredentialsError(AuthError):
    """No token or client credentials were found anywhere."""

    said = None  # the message says what was looked for
    default_hint = (
        "Pass Client(token=...), or set MIOCREATE_TOKEN (or MIOCREATE_CLIENT_ID and "
        "MIOCREATE_CLIENT_SECRET, with MIOCREATE_TOKEN_URL if needed). To try everything offline "
        "use the local sandbox: from mio_nb.sandbox import shared_sandbox; "
        "client = Client.for_sandbox(shared_sandbox())."
    )


class ServerError(MioError):
    """500 or any 5xx, or an answer that is not the API's JSON (e.g. an HTML 502 page)."""

    default_code = 500
    said = "The API had a problem on its side."
    default_hint = "Wait a moment, then {again}."


class TaskError(MioError):
    """601: the task failed on the server."""

    default_code = 601
    default_hint = "The task failed on the server. Try again, or with another file."


class NoFaceError(TaskError):
    """602: no face was found (in the original or in the new face)."""

    default_code = 602
    said = "No face was found in {looked_in}."
    default_hint = (
        "Choose a photo or video where a face is clearly visible: frontal, well lit and not too "
        "small."
    )


class MultipleFacesError(TaskError):
    """603: several faces where exactly one is needed (in the original of a single swap)."""

    default_code = 603
    said = "The original shows several faces and a single swap needs exactly one."
    default_hint = (
        "To choose which faces to replace, use faces = client.detect_faces(original) then "
        "client.swap_faces(original, {faces[0]: new_face})."
    )
    #: When it is a new face that shows several faces: the server says so, or the swap named
    #: each face of the original (then only a new face can be the one).
    new_face_said = "A new face photo shows several faces."
    new_face_hint = "Use a new-face photo (or a crop) showing exactly one person, then {again}."

    def wording(self, place: Place) -> tuple[str | None, str]:
        if place.face_by_face or "new face" in self.message.lower():
            return self.new_face_said, self.new_face_hint
        return self.said, self.default_hint


class PolicyError(TaskError):
    """604/605: a file breaks the content policy."""

    default_code = 604
    default_hint = "The file was refused under the service's content policy; use another file."


class FilePolicyError(PolicyError):
    """604: the original file breaks the policy (e.g. NSFW)."""

    default_code = 604
    said = "The original was refused under the service's content policy (e.g. NSFW)."
    default_hint = "Use another original."


class TargetPolicyError(PolicyError):
    """605: the new face breaks the policy (e.g. a celebrity)."""

    default_code = 605
    said = "A new face was refused under the service's content policy (e.g. a celebrity)."
    default_hint = "Use a photo of someone who agreed to it."


class FileError(MioError):
    """701: a file could not be read, uploaded or processed."""

    default_code = 701
    default_hint = "Check that the file opens on your computer, then upload it again."


class MissingFileError(FileError, FileNotFoundError):
    """A local input path does not exist (raised before any request)."""

    default_hint = "Check the path (and the notebook's working directory: os.getcwd())."


class CorruptFileError(FileError):
    """A local input passes the format check by its first bytes but cannot be decoded (or has
    no pixels, too many pixels, or no video stream). Raised before any request."""

    default_hint = (
        "Open the file on your computer to check it; re-save or re-export it (a truncated "
        "download or copy is the usual cause), then try again."
    )


class FileChangedError(FileError):
    """A local input changed (size or modification time) while it was being uploaded."""

    default_hint = (
        "Wait until the file is completely written (a download, a sync or an export still "
        "running), then try again. Nothing was paid for."
    )


class OutputFolderError(MioError):
    """The output folder cannot be created or written (checked before any request)."""

    default_hint = (
        "Pass Client(output_dir=...) (or --output-dir) a folder you can write to, with free "
        "space. Nothing was sent or paid for."
    )


class InvalidArgumentError(BadRequestError, ValueError):
    """An argument of the client is out of range (a timeout, hd, a face index...). Raised
    before any request."""

    default_hint = "Nothing was sent or paid for: fix the argument named above and try again."


class KeyNotFoundError(MioError):
    """702: no file behind this key (uploads are temporary)."""

    default_code = 702
    said = "The uploaded file is no longer on the server (uploads expire)."
    default_hint = "{reupload}."


class UnsupportedFormatError(FileError):
    """703: not one of the supported formats (checked by content, before uploading)."""

    default_code = 703
    said = "The service does not accept this file's format."
    default_hint = f"Convert it to {accepted_names('main')}."


class FileTooLargeError(FileError):
    """704: over the size limit (checked before uploading)."""

    default_code = 704
    said = f"The file is over the {MAX_UPLOAD_WORDS} limit."
    default_hint = "Trim the video, lower its resolution or re-encode it, then {again}."


class InsufficientCreditsError(MioError):
    """801: not enough credits. No task was created."""

    default_code = 801
    said = "Your MioCreate account is out of credits."
    default_hint = "Top up in the MioCreate console, then {again}. No task was created."


class RateLimitError(MioError):
    """802: too many requests; the client waited and retried but the limit did not lift."""

    default_code = 802
    said = "Too many requests right now."
    default_hint = "Wait a minute, then {again}. No task was created."


class TaskTimeoutError(MioError):
    """The task did not finish within the timeout. It keeps running on the server."""

    said = "{task} did not finish in time."
    default_hint = "It keeps running on the server: {resume}."


class WaitStopped(MioError):
    """Waiting for a task was stopped (``Task.wait(stop=event)``, the widget's Stop button); the
    task keeps running on the server."""

    default_hint = "The task was not cancelled and keeps running on the server: {resume}."


class NetworkError(MioError, ConnectionError):
    """The server could not be reached, or the connection broke before an answer came."""

    said = "Could not reach the MioCreate API."
    default_hint = "Check the network connection (and MIOCREATE_BASE_URL), then {again}."


class ResultCheckError(MioError):
    """A downloaded result is not what was asked for (an HTML page, a truncated file, a video
    where a picture was expected); nothing was recorded as done."""

    default_hint = (
        "The server's result was not saved. Try client.task({id}).wait() later; if it keeps "
        "happening, report it to MioCreate (nothing is paid again)."
    )


class UnsafeURLError(MioError):
    """A storage URL was refused before any connection: not http(s), an internal (private,
    loopback, link-local, metadata) address, or a redirect to another host."""

    default_hint = (
        "The server sent a URL the client will not fetch. If you run your own server on your "
        "network, point base_url at it (then its storage may be local too)."
    )


class ResponseTooLargeError(MioError):
    """An answer was larger than its cap (API answers: a few MB; results: their declared size
    plus a margin, at most 500 MB); the download stopped there and the part was removed."""

    default_hint = "The server sent far more than expected; nothing of it was kept."


class JournalError(OutputFolderError):
    """The task journal (``journal.jsonl`` in the output folder) cannot be read or written."""

    default_hint = (
        "Make the output folder writable (or choose another with output_dir=/-o). Nothing was "
        "sent: no task is created before the journal has recorded the attempt."
    )


_BY_CODE: dict[int, type[MioError]] = {
    Code.BAD_PARAMETER: BadRequestError,
    Code.AUTH_FAILED: AuthError,
    Code.SERVER_ERROR: ServerError,
    Code.TASK_ERROR: TaskError,
    Code.NO_FACE: NoFaceError,
    Code.MULTIPLE_FACES: MultipleFacesError,
    Code.FILE_POLICY: FilePolicyError,
    Code.TARGET_POLICY: TargetPolicyError,
    Code.FILE_ERROR: FileError,
    Code.KEY_NOT_FOUND: KeyNotFoundError,
    Code.UNSUPPORTED_FORMAT: UnsupportedFormatError,
    Code.FILE_TOO_LARGE: FileTooLargeError,
    Code.NOT_ENOUGH_CREDITS: InsufficientCreditsError,
    Code.RATE_LIMITED: RateLimitError,
}


def error_class(code: int | None) -> type[MioError]:
    """The exception class for an API code; 5xx -> ServerError, 6xx -> TaskError."""
    if code is None:
        return MioError
    if code in _BY_CODE:
        return _BY_CODE[code]
    if 500 <= code < 600:
        return ServerError
    if 600 <= code < 700:
        return TaskError
    if 700 <= code < 800:
        return FileError
    return MioError


def error_for(
    code: int | None,
    message: str,
    *,
    task_id: int | None = None,
    http_status: int | None = None,
    hint: str | None = None,
    task_may_exist: bool = False,
) -> MioError:
    """Build the right exception for an API ``code``."""
    cls = error_class(code)
    return cls(
        message,
        code=code,
        task_id=task_id,
        http_status=http_status,
        hint=hint,
        task_may_exist=task_may_exist,
    )


__all__ = [
    "IN_CODE",
    "TASK_MAY_EXIST",
    "TASK_MAY_EXIST_HINT",
    "AuthError",
    "BadRequestError",
    "CorruptFileError",
    "FileChangedError",
    "FileError",
    "FilePolicyError",
    "FileTooLargeError",
    "InsufficientCreditsError",
    "InvalidArgumentError",
    "JournalError",
    "KeyNotFoundError",
    "MioError",
    "MissingCredentialsError",
    "MissingFileError",
    "MultipleFacesError",
    "NetworkError",
    "NoFaceError",
    "OutputFolderError",
    "Place",
    "PolicyError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResultCheckError",
    "ServerError",
    "TargetPolicyError",
    "TaskError",
    "TaskTimeoutError",
    "UnsafeURLError",
    "UnsupportedFormatError",
    "WaitStopped",
    "error_class",
    "error_for",
]
