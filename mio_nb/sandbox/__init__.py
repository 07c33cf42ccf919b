"""A local, MioCreate-compatible Face Swap API on loopback, for notebooks, demos and tests.

>>> from mio_nb.sandbox import Sandbox, Faults
>>> with Sandbox(engine="instant", faults=Faults(latency=0.1)) as sb:  # doctest: +SKIP
...     print(sb.base_url)
"""

from __future__ import annotations

from mio_nb.sandbox.connections import Limits
from mio_nb.sandbox.faults import Faults
from mio_nb.sandbox.runner import Sandbox, default_data_dir, shared_sandbox
from mio_nb.sandbox.taskstore import TaskRow

__all__ = ["Faults", "Limits", "Sandbox", "TaskRow", "default_data_dir", "shared_sandbox"]
