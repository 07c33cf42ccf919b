"""FaceSwapWidget: from files to a swapped image or video without leaving the notebook.

One job per module: :mod:`.faceswap` the widget (traits, messages, the flow of a swap),
:mod:`.session` its background work (worker thread, task clock, Stop), :mod:`.pictures` what it
shows; media and uploads travel through :mod:`mio_nb.transfer`, errors are worded by
:mod:`mio_nb.explain`, faces are placed on the photo by :mod:`mio_nb.locate`.
"""

from __future__ import annotations

from ..explain import explain
from .faceswap import FaceSwapWidget

__all__ = ["FaceSwapWidget", "explain"]
