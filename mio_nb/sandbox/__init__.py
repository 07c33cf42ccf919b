"""A local, MioCreate-compatible Face Swap API on loopback, for notebooks, demos and tests.

>>> from mio_nb.sandbox import Sandbox, Faults
>>> with Sandbox(engine="instant", faults=Faults(latency=0.1)) as sb:  # doctest: +SKIP
...     print(sb.base_url)

Names load on first use, so that the engine's own process (:mod:`.engine.process`) imports the
engine without the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mio_nb.sandbox.connections import Limits
    from mio_nb.sandbox.faults import Faults
    from mio_nb.sandbox.runner import Sandbox, default_data_dir, shared_sandbox
    from mio_nb.sandbox.taskstore import TaskRow

__all__ = ["Faults", "Limits", "Sandbox", "TaskRow", "default_data_dir", "shared_sandbox"]

_LAZY = {
    "Limits": "mio_nb.sandbox.connections",
    "Faults": "mio_nb.sandbox.faults",
    "Sandbox": "mio_nb.sandbox.runner",
    "default_data_dir": "mio_nb.sandbox.runner",
    "shared_sandbox": "mio_nb.sandbox.runner",
    "TaskRow": "mio_nb.sandbox.taskstore",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mio_nb.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
