"""The wire protocol of the MioCreate Face Swap API: paths, codes and task states.

Shared by the client and the sandbox so both speak exactly the same API.
"""

from __future__ import annotations

from enum import IntEnum

DEFAULT_BASE_URL = "https://devapi.miocreate.com"

UPLOAD_URL_PATH = "/v1/source/upload-url"
ACCESS_URL_PATH = "/v1/source/access-url"
FACE_SWAP_PATH = "/v1/task/face-swap"
VIDEO_FACE_SWAP_PATH = "/v1/task/video-face-swap"
GET_FACE_PATH = "/v1/task/get-face"
MULTIPLE_FACE_SWAP_PATH = "/v1/task/multiple-face-swap"
MULTIPLE_VIDEO_FACE_SWAP_PATH = "/v1/task/multiple-video-face-swap"
TASK_DETAIL_PATH = "/v1/task/detail"
#: The public material names no token endpoint; this is the sandbox's, and the client's default
#: ``token_url`` is ``base_url + TOKEN_PATH`` (configurable).
TOKEN_PATH = "/v1/auth/token"

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
