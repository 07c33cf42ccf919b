"""The wire protocol of the MioCreate Face Swap API: paths, codes and task states.

Shared by the client and the sandbox so both speak exactly the same API.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Literal

DEFAULT_BASE_URL = "https://devapi.miocreate.com"

UPLOAD_URL_PATH = "/v1/source/upload-url"
ACCESS_URL_PATH = "/v1/source/access-url"
TASK_DETAIL_PATH = "/v1/task/detail"
#: The public material names no token endpoint; this is the sandbox's, and the client's default
#: ``token_url`` is ``base_url + TOKEN_PATH`` (configurable).
TOKEN_PATH = "/v1/auth/token"
#: The sandbox's identity (not part of the MioCreate API): ``{"server_id": ...}``, an id kept in
#: its data dir, so a client knows the same sandbox (and its tasks) again on another port.
SERVER_INFO_PATH = "/v1/sandbox/info"

#: Presigned upload URLs expire after this many seconds (the reference's X-Amz-Expires).
UPLOAD_URL_EXPIRES = 1800
#: Presigned access/result URLs expire after this many seconds.
ACCESS_URL_EXPIRES = 259200


class Code(IntEnum):
    """The ``code`` of the JSON envelope ``{"code", "message", "data"}``."""

    OK = 200
    BAD_PARAMETER = 400
    AUTH_FAILED = 401
    SERVER_ERROR = 500
    TASK_ERROR = 601
    NO_FACE = 602
    MULTIPLE_FACES = 603
    FILE_POLICY = 604
    TARGET_POLICY = 605
    FILE_ERROR = 701
    KEY_NOT_FOUND = 702
    UNSUPPORTED_FORMAT = 703
    FILE_TOO_LARGE = 704
    NOT_ENOUGH_CREDITS = 801
    RATE_LIMITED = 802


class TaskStatus(IntEnum):
    """Task states. The reference defines 1 and 2; the sandbox also reports 3 and 4 (as Akool
    does), and a real server was seen reporting 0 for a finished task."""

    DONE_AS_ZERO = 0
    WAITING = 1
    PROCESSING = 2
    SUCCESS = 3
    FAILED = 4


#: ``is_hd`` values: 1 high quality, 2 standard (the default).
HD_ON = 1
HD_OFF = 2


Produces = Literal["image", "video", "faces"]


class TaskType(StrEnum):
    """The task types, named after their endpoint (``/v1/task/<name>``): the one vocabulary of
    the client, its journal and the sandbox's task table."""

    FACE_SWAP = "face-swap"
    VIDEO_FACE_SWAP = "video-face-swap"
    GET_FACE = "get-face"
    MULTIPLE_FACE_SWAP = "multiple-face-swap"
    MULTIPLE_VIDEO_FACE_SWAP = "multiple-video-face-swap"

    @property
    def path(self) -> str:
        """The endpoint whose POST creates a task of this type."""
        return f"/v1/task/{self.value}"

    @property
    def produces(self) -> Produces:
        """What a finished task of this type holds: an image, a video or a list of faces."""
        if self is TaskType.GET_FACE:
            return "faces"
        return "video" if "video" in self.value else "image"

    @property
    def swaps_chosen_faces(self) -> bool:
        return self in (TaskType.MULTIPLE_FACE_SWAP, TaskType.MULTIPLE_VIDEO_FACE_SWAP)

    @classmethod
    def parse(cls, name: str | None) -> TaskType | None:
        """The type called ``name``, including the names journals of mio-nb 0.1 used."""
        if not name:
            return None
        name = _LEGACY_NAMES.get(name, name)
        try:
            return cls(name)
        except ValueError:
            return None


_LEGACY_NAMES = {
    "image-swap": "face-swap",
    "video-swap": "video-face-swap",
    "detect-faces": "get-face",
    "multi-image-swap": "multiple-face-swap",
    "multi-video-swap": "multiple-video-face-swap",
}


FACE_SWAP_PATH = TaskType.FACE_SWAP.path
VIDEO_FACE_SWAP_PATH = TaskType.VIDEO_FACE_SWAP.path
GET_FACE_PATH = TaskType.GET_FACE.path
MULTIPLE_FACE_SWAP_PATH = TaskType.MULTIPLE_FACE_SWAP.path
MULTIPLE_VIDEO_FACE_SWAP_PATH = TaskType.MULTIPLE_VIDEO_FACE_SWAP.path
