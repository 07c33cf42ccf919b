"""The names of the custom messages between the widget's view and the kernel, defined once.

The JavaScript gets them generated from here (``MSG`` in ``js/src/shared.js``, see
:mod:`.shared`); a test checks the generated file is current and that the JS sends no other name.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Msg"]


class Msg(StrEnum):
    """``content["type"]`` of each custom message."""

    # browser -> kernel
    READY = "ready"  # {keys}: a view was rendered: the media it shows (sent before it existed)
    WANT = "want"  # {keys}: media the view dropped, or did not receive in time
    UPLOAD_START = "upload_start"  # {upload, role, name, size}
    UPLOAD_CHUNK = "upload_chunk"  # {upload, offset} + one buffer
    UPLOAD_END = "upload_end"  # {upload}
    UPLOAD_CANCEL = "upload_cancel"  # {upload}
    PAIR = "pair"  # {face, new_face}
    UNPAIR = "unpair"  # {face}
    UNPAIR_NEW = "unpair_new"  # {new_face}
    REMOVE_NEW_FACE = "remove_new_face"  # {new_face}
    UNDO_REMOVE = "undo_remove"
    CHOOSE_NEW_FACE = "choose_new_face"  # {new_face, face}
    SWAP = "swap"
    STOP = "stop"
    RESUME = "resume"
    DETECT = "detect"  # find the faces of the original again
    # kernel -> browser
    MEDIA = "media"  # {key, transfer, part, parts, mime, size} + one buffer; sent when published
    UPLOAD_ACK = "upload_ack"  # {upload, received}
    UPLOAD_ERROR = "upload_error"  # {upload, message}
    UPLOAD_DONE = "upload_done"  # {upload}
