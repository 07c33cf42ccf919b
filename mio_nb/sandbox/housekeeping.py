"""Housekeeping of a sandbox's data dir: what a crash left behind, and what is past retention.

- At start-up (before any task runs): partial uploads and other temporary files under
  ``<data_dir>/tmp`` are removed, and so are result objects (``sandbox/asset/...``) no task refers
  to (a task that was running at a crash stored its results but never recorded them; it runs
  again and stores new ones).
- At start-up and then every hour: finished tasks created more than ``retention`` seconds ago are
  removed with their results and face parts, and so is every stored object older than that
  (uploads included). The real service keeps generated files 7 days: so does the sandbox by
  default. A client then gets code 702 (key not found) for those keys and those task ids.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mio_nb.sandbox.storage import Storage, valid_key
from mio_nb.sandbox.taskstore import TaskStore, keys_in

log = logging.getLogger("mio_nb.sandbox")

#: How long tasks and files are kept by default: as the real service, 7 days.
DEFAULT_RETENTION_DAYS = 7.0
#: Where task results are stored (see ``storage.asset_key``).
ASSET_PREFIX = "sandbox/asset/"
#: How often expired tasks and files are looked for while the sandbox runs.
SWEEP_SECONDS = 3600.0


@dataclass
class Swept:
    """What one pass removed."""

    temporary_files: int = 0
    orphans: int = 0
    tasks: int = 0
    expired_files: int = 0


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _prune_dirs(root: Path) -> None:
    """Remove empty directories under ``root`` (deepest first), keeping ``root``."""
    if not root.is_dir():
        return
    for dirpath in sorted((w[0] for w in os.walk(root)), key=len, reverse=True):
        if Path(dirpath) != root:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails, as wanted, when not empty


def clean_at_start(storage: Storage, store: TaskStore) -> Swept:
    """Remove temporary files, orphan result objects and empty folders. Call it before any task
    runs, with the data dir's lock held (after :func:`expire`, so that its folders go too)."""
    swept = Swept()
    for path in _files(storage.tmp):
        swept.temporary_files += _remove(path)
    referenced = store.referenced_keys()
    assets = storage.root / ASSET_PREFIX
    for path in _files(assets):
        key = path.relative_to(storage.root).as_posix()
        if key not in referenced:
            swept.orphans += _remove(path)
    _prune_dirs(storage.root)  # only here: while serving, an upload may be creating a folder
    return swept


def expire(storage: Storage, store: TaskStore, retention: float, now: float | None = None) -> Swept:
    """Remove finished tasks created more than ``retention`` seconds ago with their objects,
    and every object older than that."""
    cutoff = (time.time() if now is None else now) - retention
    swept = Swept()
    for task in store.remove_created_before(cutoff):
        swept.tasks += 1
        for key in keys_in(task.result):
            if valid_key(key):
                swept.expired_files += _remove(storage.path(key))
    for path in _files(storage.root):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                swept.expired_files += _remove(path)
    storage.forget_usage()  # uploads were removed: count them again
    return swept


class Housekeeper:
    """Runs :func:`expire` every ``SWEEP_SECONDS`` in a daemon thread until :meth:`stop`."""

    def __init__(self, storage: Storage, store: TaskStore, retention: float) -> None:
        self._storage, self._store, self._retention = storage, store, retention
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mio-sandbox-housekeeper")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                swept = expire(self._storage, self._store, self._retention)
            except Exception:  # never let housekeeping stop the sandbox
                log.warning("sandbox housekeeping failed", exc_info=True)
                continue
            if swept.tasks or swept.expired_files:
                log.info("sandbox housekeeping: %s", swept)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
