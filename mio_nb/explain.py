"""What went wrong, in a sentence for a person: the text FaceSwapWidget shows for an error.

The wording of every :class:`~mio_nb.errors.MioError` is its class's own (:mod:`mio_nb.errors`);
this module only says where the widget's reader is, by the words of its buttons ("press Swap
again", "press Resume"), and words the few errors that are not the client's. Never the token.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import MioError, Place

__all__ = ["IN_WIDGET", "explain"]

_DETECT = Place(
    again="press Find faces again",
    resume="press Resume to keep waiting for it",
    reupload="choose it again",
    tool="widget",
    looked_in="the original",
)
#: The widget's places: finding the faces of the original, and swapping them face by face.
IN_WIDGET: dict[str, Place] = {
    "detect": _DETECT,
    "swap": replace(
        _DETECT,
        again="press Swap again",
        looked_in="a new face photo (or in the original)",
        face_by_face=True,
    ),
}


def explain(error: BaseException, during: str = "swap") -> str:
    """A sentence for the widget saying what happened and what to do (never the token).

    ``during`` is "detect" (finding faces in the original) or "swap".
    """
    if isinstance(error, MioError):
        return error.words(IN_WIDGET["detect" if during == "detect" else "swap"])
    if isinstance(error, FileNotFoundError):
        return f"File not found: {error.filename or error}. Check the path."
    if isinstance(error, ValueError | KeyError | RuntimeError) and error.args:
        # Our own sentences: an UploadError (formats.py's refusals), no pairs yet, unknown face...
        return str(error.args[0])
    return f"Something went wrong ({type(error).__name__}: {error}). Try again."
