"""Where the dlib model files are: inside the ``face-recognition-models`` package's folder.

The package's own helpers import ``pkg_resources``, which fresh Python 3.12+ virtual environments
(and setuptools >= 82) do not have. Its folder is found without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["EngineDependencyError", "model_path"]

PACKAGE = "face_recognition_models"
INSTALL_HINT = 'pip install "face-recognition-models==0.3.0"'


class EngineDependencyError(ImportError):
    """A package or file the sandbox's real engine needs is missing; the message says which."""


def model_path(file_name: str) -> str:
    """The path of ``file_name`` in the models folder of ``face-recognition-models``."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EngineDependencyError(
            f"the sandbox engine needs the package face-recognition-models: {INSTALL_HINT}",
            name=PACKAGE,
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / file_name
        if path.is_file():
            return str(path)
    raise EngineDependencyError(
        f"model file {file_name} is missing from face-recognition-models; reinstall it: "
        f"{INSTALL_HINT}",
        name=PACKAGE,
    )
