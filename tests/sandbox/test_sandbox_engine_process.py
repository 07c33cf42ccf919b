"""The real engine in a process of its own: the notebook's process never loads the models, a
sandbox starts at once, a script with no ``__main__`` guard works, and an engine that dies
(killed, out of memory) fails its task with a sentence and is started again for the next."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox
from mio_nb.sandbox.engine import EngineError
from mio_nb.sandbox.engine.process import EngineProcess

pytestmark = pytest.mark.slow


def test_a_script_without_main_guard_swaps_and_never_loads_the_models(tmp_path: Path) -> None:
    """What a newcomer writes: connect() at the top of a script. The sandbox starts before the
    models are loaded (they load in the engine's process), and the script's process never
    imports dlib or OpenCV."""
    script = tmp_path / "swap.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, sys
            import mio_nb
            from mio_nb import samples
            from mio_nb.sandbox.engine.process import shared_engine_process
            client = mio_nb.connect(quiet=True, output_dir={str(tmp_path / "out")!r})
            loading = not shared_engine_process().ready  # connect() did not wait
            result = client.swap_image(samples.grace_hopper(), samples.astronaut())
            print(json.dumps({{"loading": loading, "path": str(result.path),
                              "dlib": "dlib" in sys.modules, "cv2": "cv2" in sys.modules}}))
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    env["MIO_NB_SANDBOX_DIR"] = str(tmp_path / "sandbox")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(out["path"]).stat().st_size > 10_000
    assert out["dlib"] is False and out["cv2"] is False, "the models stay in the engine's process"
    assert out["loading"] is True, "connect() waited for the engine's models to load"


def _swap(api: Api) -> int:
    main = api.upload(samples.grace_hopper())
    face = api.upload(samples.astronaut())
    return api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": face})


def test_an_engine_killed_between_tasks_is_started_again(real: Sandbox) -> None:
    api = Api(real)
    engine = real.engine
    assert isinstance(engine, EngineProcess)
    assert api.done(_swap(api))["merge_url"]
    old = engine.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    time.sleep(0.2)
    assert api.done(_swap(api), timeout=120)["merge_url"]
    assert engine.pid not in (None, old)


def test_an_engine_killed_during_a_task_fails_it_with_a_sentence_and_the_next_works(
    real: Sandbox,
) -> None:
    api = Api(real)
    engine = real.engine
    assert isinstance(engine, EngineProcess)
    engine.wait_ready()
    main = api.upload(samples.sample_video(seconds=6.0, audio=False))
    face = api.upload(samples.astronaut())
    task = api.create(P.VIDEO_FACE_SWAP_PATH, {"main_key": main, "target_key": face})
    deadline = time.monotonic() + 30
    while api.detail(task)["data"]["status"] == P.TaskStatus.WAITING:
        assert time.monotonic() < deadline, "the video swap never started"
        time.sleep(0.01)
    time.sleep(0.5)  # well inside the swap (several seconds)
    pid = engine.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    env = api.wait(task, timeout=120)
    assert env["code"] == 601, env
    assert "sandbox engine stopped during the task" in env["message"], env
    tasks = [t for t in real.tasks() if t.id == task]
    assert tasks and tasks[0].code == 601
    assert api.done(_swap(api), timeout=120)["merge_url"], "the next task starts a new engine"


def test_an_engine_that_cannot_load_says_why_and_one_that_dies_while_loading_says_so() -> None:
    unknown = EngineProcess("no-such-engine")
    try:
        with pytest.raises(ValueError, match="unknown engine 'no-such-engine'"):
            unknown.wait_ready(timeout=120)  # the child's own reason, not "it stopped"
    finally:
        unknown.close()
    dying = EngineProcess("real")
    try:
        assert dying.pid is not None
        os.kill(dying.pid, signal.SIGKILL)  # long before its models are loaded
        with pytest.raises(EngineError, match="stopped while starting") as info:
            dying.wait_ready(timeout=120)
        assert info.value.code == 601
        assert dying.get_faces(samples.grace_hopper()), "the next call starts a new engine"
    finally:
        dying.close()
