"""The JSON endpoints of the sandbox: parameter checks, task creation, task detail, tokens.

Every answer is an envelope ``{"code", "message", "data"}`` sent with HTTP 200, errors included.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from mio_nb import protocol as P
from mio_nb.formats import MAX_UPLOAD_WORDS, SUPPORTED_NAMES, format_for_name
from mio_nb.protocol import HD_OFF, HD_ON, Code, TaskStatus
from mio_nb.sandbox import jobs as J
from mio_nb.sandbox.auth import DEFAULT_TOKEN_TTL, Auth
from mio_nb.sandbox.faults import FaultState
from mio_nb.sandbox.storage import Storage, upload_key, valid_key
from mio_nb.sandbox.taskstore import TaskStore

log = logging.getLogger("mio_nb.sandbox")

MESSAGES = {
    Code.BAD_PARAMETER: "Request parameter error",
    Code.AUTH_FAILED: "Your request was made with invalid credentials.",
    Code.SERVER_ERROR: "Server exception occurred",
    Code.KEY_NOT_FOUND: "The source file for the key was not found",
    Code.UNSUPPORTED_FORMAT: f"Only supported formats: {SUPPORTED_NAMES}",
    Code.FILE_TOO_LARGE: f"Only supported files: Max {MAX_UPLOAD_WORDS}",
    Code.NOT_ENOUGH_CREDITS: "Not enough credits",
    Code.RATE_LIMITED: "Not enough requests",
}

TASK_PATHS = {t.path: t.value for t in P.TaskType}
POST_PATHS = {P.UPLOAD_URL_PATH, P.ACCESS_URL_PATH, P.TOKEN_PATH, *TASK_PATHS}
API_PATHS = POST_PATHS | {P.TASK_DETAIL_PATH, P.SERVER_INFO_PATH}
_INT = re.compile(r"^\s*-?[0-9]{1,19}\s*$")
_DIGITS = re.compile(r"^\s*-?[0-9]+\s*$")
#: Integers a parameter may hold: those SQLite stores (64-bit signed).
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1


def envelope(code: int = 200, message: str | None = None, data: Any = None) -> dict[str, Any]:
    if message is None:
        message = "ok" if code == 200 else MESSAGES.get(Code(code), "error")
    return {"code": int(code), "message": message, "data": data}


class ApiError(Exception):
    def __init__(self, code: int, detail: str | None = None) -> None:
        base = MESSAGES.get(Code(code), "error")
        super().__init__(f"{base}: {detail}" if detail else base)
        self.code = code
        self.message = str(self)


@dataclass
class Context:
    """Everything an endpoint needs."""

    storage: Storage
    store: TaskStore
    auth: Auth
    faults: FaultState
    submit: Callable[[int], None]
    success_status: int = int(TaskStatus.SUCCESS)
    #: The id kept in the data dir, announced at SERVER_INFO_PATH (clients key journals by it).
    server_id: str = ""


def as_int(value: Any, name: str) -> int:
    """An int, or a decimal string of one; anything else (bools, floats...) is a 400, and so
    is a number out of the 64-bit range."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INT.match(value):
        number = int(value)
    elif isinstance(value, str) and _DIGITS.match(value):
        raise ApiError(Code.BAD_PARAMETER, f"{name} is out of range")
    else:
        raise ApiError(Code.BAD_PARAMETER, f"{name} must be an integer")
    if not INT_MIN <= number <= INT_MAX:
        raise ApiError(Code.BAD_PARAMETER, f"{name} is out of range")
    return number


def _str(body: dict[str, Any], name: str, *aliases: str) -> str:
    for n in (name, *aliases):
        if n in body and body[n] is not None:
            value = body[n]
            if not isinstance(value, str) or not value.strip():
                raise ApiError(Code.BAD_PARAMETER, f"{n} must be a non-empty string")
            return value.strip()
    raise ApiError(Code.BAD_PARAMETER, f"{name} is required")


def _is_hd(body: dict[str, Any]) -> int:
    if body.get("is_hd") is None:
        return HD_OFF
    value = as_int(body["is_hd"], "is_hd")
    if value not in (HD_ON, HD_OFF):
        raise ApiError(Code.BAD_PARAMETER, "is_hd must be 1 (enable) or 2 (disable)")
    return value


class Api:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def handle(
        self,
        method: str,
        path: str,
        query: str,
        auth_header: str | None,
        raw: bytes,
        base_url: str,
    ) -> tuple[int, dict[str, Any], bool]:
        """(HTTP status, envelope, created_task) for one API request."""
        try:
            if path == P.TASK_DETAIL_PATH and method in ("GET", "POST"):
                self._auth(auth_header)
                body = _json(raw) if method == "POST" and raw.strip() else {}
                ids = parse_qs(query).get("id")
                task_id = ids[0] if ids else body.get("id")
                if task_id is None:
                    raise ApiError(Code.BAD_PARAMETER, "id is required")
                return 200, self.detail(as_int(task_id, "id"), base_url), False
            if path == P.SERVER_INFO_PATH and method == "GET":
                self._auth(auth_header)
                return 200, envelope(data={"server_id": self.ctx.server_id}), False
            if path not in POST_PATHS:
                if path in API_PATHS:
                    return 405, envelope(Code.BAD_PARAMETER, "Method not allowed"), False
                return 404, envelope(Code.BAD_PARAMETER, "Not found"), False
            if method != "POST":
                return 405, envelope(Code.BAD_PARAMETER, "Method not allowed"), False
            if path == P.TOKEN_PATH:
                return 200, self.token(_token_body(raw)), False
            self._auth(auth_header)
            body = _json(raw)
            if path == P.UPLOAD_URL_PATH:
                return 200, self.upload_url(body, base_url), False
            if path == P.ACCESS_URL_PATH:
                return 200, self.access_url(body, base_url), False
            return 200, self.create_task(TASK_PATHS[path], body), True
        except ApiError as exc:
            return 200, envelope(exc.code, exc.message), False

    # -- helpers ---------------------------------------------------------------------------
    def _auth(self, header: str | None) -> None:
        if not self.ctx.auth.valid(header, self.ctx.faults.faults.token_ttl):
            raise ApiError(Code.AUTH_FAILED)

    def _existing(self, key: str) -> str:
        if not valid_key(key) or not self.ctx.storage.exists(key):
            raise ApiError(Code.KEY_NOT_FOUND, key if valid_key(key) else None)
        return key

    def _kind(self, key: str, name: str, wanted: tuple[str, ...]) -> str:
        fmt = self.ctx.storage.format_of(key)
        if fmt is None:
            raise ApiError(Code.UNSUPPORTED_FORMAT)
        if fmt.kind not in wanted:
            raise ApiError(Code.BAD_PARAMETER, f"{name} must be {' or '.join(wanted)}")
        reason = self.ctx.storage.refusal(key)
        if reason is not None:  # an engine never sees a file over the limits
            raise ApiError(Code.FILE_TOO_LARGE, f"{name}: {reason}")
        return fmt.kind

    def _signer(self, base_url: str) -> Callable[[str], str]:
        def sign(key: str) -> str:
            return self.ctx.storage.sign(base_url, key, "GET", P.ACCESS_URL_EXPIRES)

        return sign

    # -- endpoints -------------------------------------------------------------------------
    def token(self, body: dict[str, Any]) -> dict[str, Any]:
        if "client_id" not in body or "client_secret" not in body:
            raise ApiError(Code.BAD_PARAMETER, "client_id and client_secret are required")
        if not self.ctx.auth.check_client(body["client_id"], body["client_secret"]):
            raise ApiError(Code.AUTH_FAILED)
        ttl = self.ctx.faults.faults.token_ttl
        expires_in = DEFAULT_TOKEN_TTL if ttl is None else ttl
        data = {"access_token": self.ctx.auth.issue(), "expires_in": expires_in}
        return envelope(data=data)

    def upload_url(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        name = _str(body, "file_name")
        fmt = format_for_name(name)
        if fmt is None:
            raise ApiError(Code.UNSUPPORTED_FORMAT)
        key = upload_key(fmt.name)
        url = self.ctx.storage.sign(base_url, key, "PUT", P.UPLOAD_URL_EXPIRES)
        return envelope(data={"upload_url": url, "key": key})

    def access_url(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        key = self._existing(_str(body, "key"))
        return envelope(data={"url": self._signer(base_url)(key)})

    def create_task(self, task_type: str, body: dict[str, Any]) -> dict[str, Any]:
        if task_type in (J.FACE_SWAP, J.VIDEO_FACE_SWAP):
            main = _str(body, "main_key", "key")
            target = _str(body, "target_key")
            hd = _is_hd(body)
            self._existing(main)
            self._existing(target)
            want = "video" if task_type == J.VIDEO_FACE_SWAP else "image"
            self._kind(main, "main_key", (want,))
            self._kind(target, "target_key", ("image",))
            params: dict[str, Any] = {"main_key": main, "target_key": target, "is_hd": hd}
        elif task_type == J.GET_FACE:
            main = self._existing(_str(body, "main_key", "key"))
            self._kind(main, "main_key", ("image", "video"))
            params = {"main_key": main}
        else:
            params = self._multi_params(task_type, body)
        if not self.ctx.faults.take_credit():
            raise ApiError(Code.NOT_ENOUGH_CREDITS)
        task_id = self.ctx.store.create(task_type, params)
        self.ctx.submit(task_id)
        log.info("task %s (%s) created", task_id, task_type)
        return envelope(data={"task_id": task_id})

    def _multi_params(self, task_type: str, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("avatar_key")
        if isinstance(items, str):  # tolerate a JSON-encoded list
            try:
                items = json.loads(items)
            except ValueError:
                items = None
        if not isinstance(items, list) or not items:
            raise ApiError(Code.BAD_PARAMETER, "avatar_key must be a non-empty list")
        if body.get("get_face_id") is None:
            raise ApiError(Code.BAD_PARAMETER, "get_face_id is required")
        face_id = as_int(body["get_face_id"], "get_face_id")
        hd = _is_hd(body)
        pairs: list[dict[str, str]] = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiError(Code.BAD_PARAMETER, "avatar_key items must be objects")
            pairs.append(
                {
                    "target_part_key": _str(item, "target_part_key"),
                    "avatar_part_key": _str(item, "avatar_part_key"),
                }
            )
        face_task = self.ctx.store.get(face_id)
        if (
            face_task is None
            or face_task.type != J.GET_FACE
            or face_task.status != TaskStatus.SUCCESS
        ):
            raise ApiError(Code.BAD_PARAMETER, "get_face_id must be a finished get-face task")
        main = face_task.params["main_key"]
        want = "video" if task_type == J.MULTIPLE_VIDEO_FACE_SWAP else "image"
        fmt = self.ctx.storage.format_of(main) if self.ctx.storage.exists(main) else None
        if fmt is None:
            raise ApiError(Code.KEY_NOT_FOUND, "the get-face task's file is gone")
        if fmt.kind != want:
            raise ApiError(Code.BAD_PARAMETER, f"get_face_id must be a get-face task of a {want}")
        if (reason := self.ctx.storage.refusal(main)) is not None:
            raise ApiError(Code.FILE_TOO_LARGE, f"the get-face task's file: {reason}")
        seen: set[str] = set()
        for pair in pairs:
            target = pair["target_part_key"]
            part = self.ctx.store.face_part(target) if valid_key(target) else None
            if part is None or part.task_id != face_id:
                raise ApiError(
                    Code.BAD_PARAMETER, f"target_part_key {target} is not a face of task {face_id}"
                )
            if target in seen:
                raise ApiError(Code.BAD_PARAMETER, f"target_part_key {target} is paired twice")
            seen.add(target)
            self._existing(pair["avatar_part_key"])
            self._kind(pair["avatar_part_key"], "avatar_part_key", ("image",))
        return {"main_key": main, "get_face_id": face_id, "pairs": pairs, "is_hd": hd}

    def detail(self, task_id: int, base_url: str) -> dict[str, Any]:
        task = self.ctx.store.get(task_id)
        if task is None and 0 < task_id <= self.ctx.store.last_id():
            raise ApiError(
                Code.KEY_NOT_FOUND, f"task {task_id} was removed after the retention period"
            )
        if task is None:
            raise ApiError(Code.BAD_PARAMETER, f"no task with id {task_id}")
        data: dict[str, Any] = {
            "id": task.id,
            "status": task.status,
            "message": task.message,
            "additional_data": {},
        }
        if task.status == TaskStatus.SUCCESS:
            data["status"] = self.ctx.success_status
            data["additional_data"] = J.with_urls(task.result, self._signer(base_url))
        elif task.status == TaskStatus.FAILED:
            return envelope(task.code, task.message, data)
        return envelope(data=data)


def _json(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise ApiError(Code.BAD_PARAMETER, "the body is nested too deeply") from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise ApiError(Code.BAD_PARAMETER, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(Code.BAD_PARAMETER, "the body must be a JSON object")
    return body


def _token_body(raw: bytes) -> dict[str, Any]:
    """The token request: JSON, or form-encoded as OAuth clients send it."""
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith("{") or not text:
        return _json(raw)
    return {k: v[0] for k, v in parse_qs(text).items()}
