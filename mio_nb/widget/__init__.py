"""FaceSwapWidget: from files to a swapped image or video without leaving the notebook.

One job per module: :mod:`.faceswap` the widget class (traits and message routing),
:mod:`.intake` the original and new faces coming in, :mod:`.pairs` pairing, :mod:`.board` what
jobs show as traits, :mod:`.jobs` the jobs (detect, check, swap, resume; no comm needed),
:mod:`.state` the typed values of the traits, :mod:`.messages` the message names,
:mod:`.shared` what the JavaScript gets generated from Python, :mod:`.people` where a video's
people are seen, :mod:`.session` the worker thread, :mod:`.inputs` files checked on arrival,
:mod:`.pictures` what it shows. Media and uploads travel through :mod:`mio_nb.transfer`, errors
are worded by :mod:`mio_nb.explain`.

Names load on first use, so that :mod:`mio_nb.transfer` can take the message names from
:mod:`.messages` without loading the widget (anywidget) or making an import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..explain import explain
    from .faceswap import FaceSwapWidget

__all__ = ["FaceSwapWidget", "explain"]

_LAZY = {"FaceSwapWidget": "mio_nb.widget.faceswap", "explain": "mio_nb.explain"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mio_nb.widget' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
