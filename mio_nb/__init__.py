"""mio-nb: face swapping in notebooks with the MioCreate Face Swap API.

>>> from mio_nb import Client
>>> client = Client()                       # the real API (MIOCREATE_TOKEN, ...)
>>> client = mio_nb.connect()               # the real API, else the local sandbox
>>> client.swap_image("photo.jpg", "me.jpg")

Names are imported lazily: ``import mio_nb`` stays fast and loads neither requests nor the sandbox.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

# A library logs, the application decides what to show: without a handler of our own, Python's
# last-resort handler would print every warning (e.g. "another running sandbox uses ...") to
# stderr, which a notebook shows in red and saves with the cell.
logging.getLogger("mio_nb").addHandler(logging.NullHandler())

_EXPORTS: dict[str, str] = {
    "Client": "mio_nb.client",
    "connect": "mio_nb.backend",
    "doctor": "mio_nb.doctor",
    "Task": "mio_nb.tasks",
    "Asset": "mio_nb.results",
    "Face": "mio_nb.results",
    "FaceSet": "mio_nb.results",
    "ImageResult": "mio_nb.results",
    "VideoResult": "mio_nb.results",
    "JournalEntry": "mio_nb.journal",
    "RetryConfig": "mio_nb.transport",
    "draw_face": "mio_nb.plotting",
    "FaceSwapWidget": "mio_nb.widget",
    "MioError": "mio_nb.errors",
    "AuthError": "mio_nb.errors",
    "MissingCredentialsError": "mio_nb.errors",
    "BadRequestError": "mio_nb.errors",
    "ServerError": "mio_nb.errors",
    "TaskError": "mio_nb.errors",
    "NoFaceError": "mio_nb.errors",
    "MultipleFacesError": "mio_nb.errors",
    "PolicyError": "mio_nb.errors",
    "FilePolicyError": "mio_nb.errors",
    "TargetPolicyError": "mio_nb.errors",
    "FileError": "mio_nb.errors",
    "MissingFileError": "mio_nb.errors",
    "CorruptFileError": "mio_nb.errors",
    "FileChangedError": "mio_nb.errors",
    "OutputFolderError": "mio_nb.errors",
    "InvalidArgumentError": "mio_nb.errors",
    "KeyNotFoundError": "mio_nb.errors",
    "UnsupportedFormatError": "mio_nb.errors",
    "FileTooLargeError": "mio_nb.errors",
    "InsufficientCreditsError": "mio_nb.errors",
    "RateLimitError": "mio_nb.errors",
    "TaskTimeoutError": "mio_nb.errors",
    "WaitStopped": "mio_nb.errors",
    "NetworkError": "mio_nb.errors",
    "JournalError": "mio_nb.errors",
    "ResponseTooLargeError": "mio_nb.errors",
    "ResultCheckError": "mio_nb.errors",
    "UnsafeURLError": "mio_nb.errors",
}

__all__ = [
    "Asset",
    "AuthError",
    "BadRequestError",
    "Client",
    "CorruptFileError",
    "Face",
    "FaceSet",
    "FaceSwapWidget",
    "FileChangedError",
    "FileError",
    "FilePolicyError",
    "FileTooLargeError",
    "ImageResult",
    "InsufficientCreditsError",
    "InvalidArgumentError",
    "JournalEntry",
    "JournalError",
    "KeyNotFoundError",
    "MioError",
    "MissingCredentialsError",
    "MissingFileError",
    "MultipleFacesError",
    "NetworkError",
    "NoFaceError",
    "OutputFolderError",
    "PolicyError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResultCheckError",
    "RetryConfig",
    "ServerError",
    "TargetPolicyError",
    "Task",
    "TaskError",
    "TaskTimeoutError",
    "UnsafeURLError",
    "UnsupportedFormatError",
    "VideoResult",
    "WaitStopped",
    "__version__",
    "connect",
    "doctor",
    "draw_face",
]

if TYPE_CHECKING:
    from .backend import connect
    from .client import Client
    from .doctor import doctor
    from .errors import (
        AuthError,
        BadRequestError,
        CorruptFileError,
        FileChangedError,
        FileError,
        FilePolicyError,
        FileTooLargeError,
        InsufficientCreditsError,
        InvalidArgumentError,
        JournalError,
        KeyNotFoundError,
        MioError,
        MissingCredentialsError,
        MissingFileError,
        MultipleFacesError,
        NetworkError,
        NoFaceError,
        OutputFolderError,
        PolicyError,
        RateLimitError,
        ResponseTooLargeError,
        ResultCheckError,
        ServerError,
        TargetPolicyError,
        TaskError,
        TaskTimeoutError,
        UnsafeURLError,
        UnsupportedFormatError,
        WaitStopped,
    )
    from .journal import JournalEntry
    from .plotting import draw_face
    from .results import Asset, Face, FaceSet, ImageResult, VideoResult
    from .tasks import Task
    from .transport import RetryConfig
    from .widget import FaceSwapWidget


#: Submodules reachable as attributes (``mio_nb.samples.grace_hopper()``) without an import.
_SUBMODULES = ("samples",)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"mio_nb.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mio_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
