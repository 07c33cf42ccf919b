"""What went wrong, in a sentence for a person: the wording FaceSwapWidget shows for each error
of :mod:`mio_nb.errors` (and of uploads), saying what to do next. Never the token."""

from __future__ import annotations

from .backend import NO_SANDBOX_NOTICE
from .errors import (
    AuthError,
    FilePolicyError,
    FileTooLargeError,
    InsufficientCreditsError,
    KeyNotFoundError,
    MioError,
    MissingCredentialsError,
    MultipleFacesError,
    NetworkError,
    NoFaceError,
    RateLimitError,
    ServerError,
    TargetPolicyError,
    TaskTimeoutError,
    UnsupportedFormatError,
)
from .formats import accepted_names
from .transfer import UploadError

__all__ = ["explain"]


def explain(error: BaseException, during: str = "swap") -> str:
    """A sentence for the widget saying what happened and what to do (never the token).

    ``during`` is "detect" (finding faces in the original) or "swap".
    """
    again = "press Swap again" if during == "swap" else "choose the original again"
    if isinstance(error, UploadError):
        return str(error)
    if isinstance(error, MioError) and error.task_may_exist:
        return (
            "The connection broke while the task was being created, so it may exist (and be "
            "charged) although no answer came. It was not sent again: check client.history() "
            f"before you {again.split(' ', 1)[1]}."
        )
    if isinstance(error, NoFaceError):
        if during == "detect":
            return (
                "No face was found in the original. Choose a photo or video where a face is "
                "clearly visible: frontal, well lit and not too small."
            )
        return (
            "No face was found in a new face photo (or in the original). Use new-face photos "
            "where one face is clearly visible, then press Swap again."
        )
    if isinstance(error, MultipleFacesError):
        return (
            "A new face photo shows several faces: add a photo (or a crop) with exactly one "
            "face, pair it, then press Swap again."
        )
    if isinstance(error, FilePolicyError):
        return (
            "The original was refused under the service's content policy (e.g. NSFW): choose "
            "another original."
        )
    if isinstance(error, TargetPolicyError):
        return (
            "A new face was refused under the service's content policy (e.g. a celebrity): use "
            "a photo of someone who agreed to it."
        )
    if isinstance(error, UnsupportedFormatError):
        return f"The service does not accept this file's format: use {accepted_names('main')}."
    if isinstance(error, FileTooLargeError):
        return (
            "The file is over the 500 MB limit: trim the video or lower its resolution, then "
            "choose it again."
        )
    if isinstance(error, InsufficientCreditsError):
        return (
            "Your MioCreate account is out of credits: top up in the MioCreate console, then "
            f"{again}. No task was created."
        )
    if isinstance(error, RateLimitError):
        return f"Too many requests right now: wait a minute, then {again}. No task was created."
    if isinstance(error, MissingCredentialsError):
        return NO_SANDBOX_NOTICE
    if isinstance(error, AuthError):
        return (
            "The API refused the token (invalid or expired): set a fresh MIOCREATE_TOKEN (or "
            "MIOCREATE_CLIENT_ID and MIOCREATE_CLIENT_SECRET), then create the widget again."
        )
    if isinstance(error, KeyNotFoundError):
        return "The uploaded file is no longer on the server (uploads expire): choose it again."
    if isinstance(error, TaskTimeoutError):
        task = f"Task {error.task_id}" if error.task_id is not None else "The task"
        return (
            f"{task} did not finish in time; it keeps running on the server: press Resume to "
            "keep waiting for it."
        )
    if isinstance(error, NetworkError):
        return (
            "Could not reach the MioCreate API: check the network connection (and "
            f"MIOCREATE_BASE_URL), then {again}."
        )
    if isinstance(error, ServerError):
        return f"The API had a problem on its side: wait a moment, then {again}."
    if isinstance(error, MioError):
        code = f" (code {error.code})" if error.code is not None else ""
        return f"{error.message or type(error).__name__}{code}. {error.hint}"
    if isinstance(error, FileNotFoundError):
        return f"File not found: {error.filename or error}. Check the path."
    if isinstance(error, ValueError | KeyError | RuntimeError) and error.args:
        return str(error.args[0])  # our own sentences (no pairs yet, unknown face, ...)
    return f"Something went wrong ({type(error).__name__}: {error}). Try again."
