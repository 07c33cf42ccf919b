"""What a call sends: its inputs resolved and checked once, before the first request.

Every verb of :class:`~mio_nb.client.Client` that creates a task hands its arguments here: each
input is prepared (read, its format told by content, decoded by the bounded checks of
:mod:`mio_nb.preflight`), its kind matched to its role, the output folder checked, and only then
are the local files uploaded in parallel. The result is the request body, and what the journal
keeps about the inputs (names, keys, sizes, paths: never content).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import protocol
from .errors import BadRequestError, InvalidArgumentError
from .journal import Journal
from .preflight import check_hd, check_output_dir
from .protocol import TaskType
from .results import Asset, Face, FaceSet
from .transport import Transport
from .uploads import Prepared, Source, prepare, require_kind, upload_source

MAX_PARALLEL_UPLOADS = 4

FaceMap = Mapping[Face, Any] | Mapping[int, Any] | Mapping[Face | int, Any]


@dataclass(frozen=True)
class Request:
    """A task to create: its type, body, and what the journal records (inputs, params)."""

    type: TaskType
    body: dict[str, Any]
    inputs: dict[str, Any]
    params: dict[str, Any]


class Inputs:
    """Resolves a call's inputs for ``transport``'s server, results going to ``output_dir``."""

    def __init__(
        self,
        transport: Transport,
        output_dir: Path,
        progress: Callable[[], bool],
        journal: Journal,
        server_id: Callable[[], str],
    ) -> None:
        self.transport = transport
        self.output_dir = output_dir
        self._progress = progress
        self._journal = journal
        self._server_id = server_id

    def upload(self, items: Sequence[Prepared], progress: bool | None = None) -> list[Asset]:
        """Upload the local files among ``items`` in parallel; Assets pass through."""
        show = self._progress() if progress is None else progress
        sources = [(i, it) for i, it in enumerate(items) if isinstance(it, Source)]
        out: list[Any] = list(items)
        if len(sources) > 1:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_UPLOADS, len(sources))) as pool:
                futures = [
                    (i, pool.submit(upload_source, self.transport, s, progress=show))
                    for i, s in sources
                ]
                for i, fut in futures:
                    out[i] = fut.result()
        else:
            for i, s in sources:
                out[i] = upload_source(self.transport, s, progress=show)
        return out

    def resolve(
        self,
        inputs: Mapping[str, Any],
        kinds: Mapping[str, str | None],
        hints: Mapping[str, str],
        prepared: Mapping[str, Prepared] | None = None,
    ) -> tuple[dict[str, Asset], dict[str, dict[str, Any]]]:
        """Check every input and the output folder (no request yet), then upload the local
        inputs in parallel. ``prepared``: inputs checked already in this call."""
        items = dict(prepared or {})
        for role, src in inputs.items():
            if role not in items:
                items[role] = prepare(src, role)
        for role, item in items.items():
            kind = kinds.get(role)
            if kind:
                require_kind(item, kind, role, hints.get(role))  # type: ignore[arg-type]
        check_output_dir(self.output_dir)
        roles = list(items)
        assets = dict(zip(roles, self.upload([items[r] for r in roles]), strict=True))
        record = {role: _describe(items[role], assets[role]) for role in roles}
        return assets, record

    def detect(self, src: Any) -> Request:
        assets, record = self.resolve({"original": src}, {}, {})
        return Request(TaskType.GET_FACE, {"main_key": assets["original"].key}, record, {})

    def swap(self, type: TaskType | None, original: Any, new_face: Any, hd: Any) -> Request:
        """A one-face swap; ``type`` None: an image or video swap by what ``original`` is."""
        hd = check_hd(hd)
        if type is None:
            original = prepare(original, "original")
            if original.kind is None:
                raise BadRequestError(
                    f"Cannot tell whether '{original.name}' is an image or a video.",
                    hint="Use swap_image() or swap_video().",
                )
            video = original.kind == "video"
            type = TaskType.VIDEO_FACE_SWAP if video else TaskType.FACE_SWAP
        kind = type.produces
        other = "swap_image()" if kind == "video" else "swap_video()"
        assets, record = self.resolve(
            {"original": original, "new face": new_face},
            {"original": kind, "new face": "image"},
            {"original": f"Use {other} for that.", "new face": "The new face must be a photo."},
        )
        body = {
            "main_key": assets["original"].key,
            "target_key": assets["new face"].key,
            "is_hd": protocol.HD_ON if hd else protocol.HD_OFF,
        }
        return Request(type, body, record, {"hd": hd})

    def face_swap(
        self,
        original: Any,
        faces: FaceMap,
        faceset: FaceSet | None,
        hd: Any,
    ) -> Request:
        """A swap of chosen faces of the file a get-face task looked at."""
        hd = check_hd(hd)
        chosen = _chosen_faces(faces, faceset)
        get_face_id = chosen[0].task_id
        assert get_face_id is not None
        given = None if original is None else prepare(original, "original")
        roles = {
            f"new face for face {f.index}": v for f, v in zip(chosen, faces.values(), strict=True)
        }
        prepared = {role: prepare(src, role) for role, src in roles.items()}
        for role, item in prepared.items():
            require_kind(item, "image", role, "The new face must be a photo.")
        check_output_dir(self.output_dir)
        known = _known_from_faceset(faceset) or self._known_original(get_face_id)
        if given is not None:
            _require_same_original(given, known)
        kind = known.get("kind") or (given.kind if given is not None else None)
        if kind not in ("image", "video"):
            raise BadRequestError(
                "Cannot tell whether the faces are from an image or a video.",
                hint="Pass the original file (or the FaceSet) too.",
            )
        assets, record = self.resolve(
            roles,
            dict.fromkeys(roles, "image"),
            dict.fromkeys(roles, "The new face must be a photo."),
            prepared,
        )
        pairs = [
            {"target_part_key": f.key, "avatar_part_key": assets[role].key}
            for f, role in zip(chosen, roles, strict=True)
        ]
        record["faces"] = {"indexes": [f.index for f in chosen], "get_face_id": get_face_id}
        if known.get("name") or known.get("key"):
            record["original"] = {k: v for k, v in known.items() if v is not None}
        elif given is not None:
            record["original"] = {"name": given.name, "kind": given.kind}
        body = {
            "avatar_key": pairs,
            "get_face_id": get_face_id,
            "is_hd": protocol.HD_ON if hd else protocol.HD_OFF,
        }
        video = kind == "video"
        type = TaskType.MULTIPLE_VIDEO_FACE_SWAP if video else TaskType.MULTIPLE_FACE_SWAP
        return Request(type, body, record, {"hd": hd})

    def _known_original(self, get_face_id: int) -> dict[str, Any]:
        """What the journal knows of the file get-face task ``get_face_id`` looked at."""
        entry = self._journal.find(get_face_id, self._server_id())
        original = entry.inputs.get("original") if entry is not None else None
        return dict(original) if isinstance(original, dict) else {}


def _known_from_faceset(faceset: FaceSet | None) -> dict[str, Any]:
    """What a FaceSet knows of the file its faces were found in: name, key, size, kind, path."""
    if faceset is None or faceset.source is None:
        return {}
    src = faceset.source
    return {
        "name": src.name,
        "key": src.key,
        "size": src.size,
        "kind": src.kind,
        "path": faceset.source_path,
    }


def _chosen_faces(
    faces: Mapping[Face, Any] | Mapping[int, Any] | Mapping[Face | int, Any],
    faceset: FaceSet | None,
) -> list[Face]:
    """The faces a face swap names, checked: one FaceSet, each face once, indexes in range."""
    if not faces:
        raise BadRequestError("No face to swap: pass {face: new_face, ...}.")
    chosen: list[Face] = []
    for key in faces:
        if isinstance(key, Face):
            if faceset is not None and key.task_id != faceset.task_id:
                raise BadRequestError(
                    f"Face {key.index} comes from get-face task {key.task_id}, not from "
                    f"the faceset of task {faceset.task_id}."
                )
            chosen.append(key)
        elif isinstance(key, int) and not isinstance(key, bool):
            if faceset is None:
                raise BadRequestError(
                    "Face numbers need the FaceSet they refer to.",
                    hint="Pass faceset=client.detect_faces(original), or use its Face "
                    "objects as keys: {faces[0]: 'me.jpg'}.",
                )
            if not 0 <= key < len(faceset):
                raise InvalidArgumentError(
                    f"There is no face {key}: the faceset has {len(faceset)} "
                    f"(numbered 0..{len(faceset) - 1})."
                )
            chosen.append(faceset[key])
        else:
            raise BadRequestError(f"Cannot use {key!r} as a face: pass a Face or an index.")
    if len(set(chosen)) != len(chosen):
        raise BadRequestError("A face is listed twice: give each face one new face.")
    get_face_ids = {f.task_id for f in chosen}
    if len(get_face_ids) != 1 or None in get_face_ids:
        raise BadRequestError(
            "The faces come from different detect_faces() calls; use faces of one FaceSet."
        )
    return chosen


def _require_same_original(given: Prepared, known: Mapping[str, Any]) -> None:
    """BadRequestError unless ``given`` is the file the faces were found in (as far as
    ``known`` tells: its key, its path, its size, its content)."""
    if not known:
        return
    where = known.get("name") or known.get("key") or "another file"
    label = given.label if isinstance(given, Source) else f"The original '{given.name}'"
    mismatch = BadRequestError(
        f"{label} is not the file these faces were found in ('{where}').",
        hint="Pass the original the faces were detected in, or detect the faces of this one "
        "first: faces = client.detect_faces(original).",
    )
    if isinstance(given, Asset):
        if known.get("key") and given.key != known["key"]:
            raise mismatch
        return
    known_path = Path(known["path"]) if known.get("path") else None
    if known_path is not None and given.path is not None:
        try:
            if known_path.resolve() == given.path.resolve():
                return
        except OSError:
            pass
    if known.get("size") is not None and int(known["size"]) != given.size:
        raise mismatch
    if known_path is None or not known_path.is_file():
        return
    with open(known_path, "rb") as f:
        known_digest = hashlib.file_digest(f, "sha256").hexdigest()
    if _sha256(given) != known_digest:
        raise mismatch


def _sha256(source: Source) -> str:
    digest = hashlib.sha256()
    with source.open() as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(item: Prepared, asset: Asset) -> dict[str, Any]:
    """What the journal keeps about an input: enough to know what was sent, no content."""
    out: dict[str, Any] = {"name": asset.name, "key": asset.key, "kind": asset.kind}
    if asset.size is not None:
        out["size"] = asset.size
    if isinstance(item, Source) and item.path is not None:
        out["path"] = str(item.path.absolute())
    return out
