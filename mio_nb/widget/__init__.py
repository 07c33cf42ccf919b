"""FaceSwapWidget: from files to a swapped image or video without leaving the notebook.

One job per module: :mod:`.faceswap` the widget class (traits and message routing),
:mod:`.intake` the original and new faces coming in, :mod:`.pairs` pairing, :mod:`.board` what
jobs show as traits, :mod:`.jobs` the jobs (detect, check, swap, resume; no comm needed),
:mod:`.state` the typed values of the traits, :mod:`.messages` the message names,
:mod:`.shared` what the JavaScript gets generated from Python, :mod:`.people` where a video's
people are seen, :mod:`.session` the worker thread, :mod:`.inputs` files checked on arrival,
:mod:`.pictures` what it shows. Media and uploads travel through :mod:`mio_nb.transfer`, errors
are worded by :mod:`mio_nb.explain`.
"""

from __future__ import annotations

from ..explain import explain
from .faceswap import FaceSwapWidget

__all__ = ["FaceSwapWidget", "explain"]
