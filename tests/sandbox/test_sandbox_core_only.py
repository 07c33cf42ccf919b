"""The sandbox with the instant engine needs only the core install (Pillow): run it in a
process where the real engine's packages cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = {"numpy", "cv2", "dlib", "imageio_ffmpeg", "skimage", "face_recognition_models"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"No module named {name!r} (blocked)")
            return None

    sys.meta_path.insert(0, Block())

    import requests
    from mio_nb import protocol as P
    from mio_nb.sandbox import Sandbox
    from mio_nb.sandbox.engine import INSTALL_HINT

    try:
        Sandbox(engine="real")
    except ImportError as exc:
        assert str(exc) == INSTALL_HINT, exc
    else:
        raise AssertionError("the real engine loaded without its packages")

    image = open(sys.argv[1], "rb").read()
    with Sandbox(engine="instant") as sb:
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + sb.token

        def ok(path, body):
            env = s.post(sb.base_url + path, json=body, timeout=30).json()
            assert env["code"] == 200, env
            return env["data"]

        def done(task_id):
            for _ in range(400):
                env = s.get(sb.base_url + P.TASK_DETAIL_PATH, params={"id": task_id}).json()
                assert env["code"] == 200, env
                if env["data"]["status"] == 3:
                    return env["data"]["additional_data"]
                import time; time.sleep(0.02)
            raise AssertionError("task did not finish")

        got = ok(P.UPLOAD_URL_PATH, {"file_name": "a.jpg"})
        assert requests.put(got["upload_url"], data=image).status_code == 200
        key = got["key"]
        swap = done(ok(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})["task_id"])
        assert requests.get(swap["merge_url"]).status_code == 200
        face_task = ok(P.GET_FACE_PATH, {"main_key": key})["task_id"]
        faces = done(face_task)
        pair = {"target_part_key": faces[0]["avatar_part_key"], "avatar_part_key": key}
        multi = ok(P.MULTIPLE_FACE_SWAP_PATH, {"avatar_key": [pair], "get_face_id": face_task})
        assert done(multi["task_id"])["merge_url"]
    loaded = sorted(BLOCKED & set(sys.modules))
    assert not loaded, loaded
    print("core-only ok", len(faces))
    """
)


def test_instant_sandbox_runs_without_the_real_engine_packages() -> None:
    from mio_nb import samples

    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(samples.grace_hopper())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "core-only ok 1" in proc.stdout
