"""One definition of what a person reads: every error class words itself in mio_nb/errors.py (the
widget only names its buttons), and the accepted formats and the size limit are spelled in
mio_nb/formats.py alone."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from mio_nb import errors, explain
from mio_nb.errors import IN_CODE, MioError, Place, error_for
from mio_nb.explain import IN_WIDGET

PACKAGE = Path(errors.__file__).resolve().parent
PLACES: dict[str, Place] = {"code": IN_CODE, **{f"widget {k}": p for k, p in IN_WIDGET.items()}}


def _error_classes() -> list[type[MioError]]:
    found = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, MioError)]
    return sorted(found, key=lambda c: c.__name__)


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


ERRORS = _error_classes()


def test_every_error_class_is_defined_and_exported_by_errors() -> None:
    import mio_nb  # noqa: F401  loads what the package loads; a MioError made elsewhere shows

    strays = {c for c in _subclasses(MioError) if c.__module__ != "mio_nb.errors"}
    strays = {c for c in strays if c.__module__.startswith("mio_nb")}
    assert not strays, f"error classes outside mio_nb/errors.py: {strays}"
    assert {c.__name__ for c in ERRORS} <= set(errors.__all__)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_each_error_class_words_itself(cls: type[MioError]) -> None:
    # A new class without its own wording fails here: it would read as its parent's.
    assert "default_hint" in vars(cls), f"{cls.__name__} has no default_hint of its own"
    if any(base.said is not None for base in cls.__mro__[1:] if issubclass(base, MioError)):
        assert "said" in vars(cls), f"{cls.__name__} would say what its parent says happened"
    for place_name, place in PLACES.items():
        for task_id in (None, 7):
            error = cls("The server said no.", task_id=task_id)
            text = error.words(place)
            assert text.endswith(".") and text[0].isupper(), (place_name, text)
            assert not re.search(r"\{\w+\}", text), f"a word left open in {place_name}: {text}"
            if task_id is not None:
                assert "client.task(ID)" not in error.hint, error.hint


def test_explain_is_a_lookup_not_a_list_of_error_classes() -> None:
    source = inspect.getsource(explain)
    named = {c.__name__ for c in ERRORS if re.search(rf"\b{c.__name__}\b", source)}
    assert named <= {"MioError"}, f"explain.py words {named} itself: word them in errors.py"


def test_python_and_the_widget_say_the_same_sentence_with_their_own_next_step() -> None:
    error = error_for(802, "Not enough requests")
    assert error.hint == "Too many requests right now. Wait a minute, then try again. " + (
        "No task was created."
    )
    assert explain.explain(error) == error.hint.replace("try again", "press Swap again")
    assert explain.explain(error, during="detect") == error.hint.replace(
        "try again", "press Find faces again"
    )
    may_exist = error_for(500, "dropped", task_may_exist=True)
    assert may_exist.hint == errors.TASK_MAY_EXIST_HINT
    assert explain.explain(may_exist) == errors.TASK_MAY_EXIST_HINT.replace(
        "try again", "press Swap again"
    )


def test_a_hint_given_by_the_raiser_is_kept_word_for_word() -> None:
    error = errors.RateLimitError("slow down", hint="Run it tonight {again}.")
    assert error.hint == "Run it tonight {again}."
    assert explain.explain(error) == "slow down (code 802). Run it tonight {again}."
    later = errors.FileError("expired", hint="Fetch it again with client.task({id}).wait().")
    assert later.hint == "Fetch it again with client.task(ID).wait()."
    later.task_id = 7  # set by the task that saved it
    assert later.hint == "Fetch it again with client.task(7).wait()."
    timeout = errors.TaskTimeoutError("late")
    assert "client.task(ID).wait()" in timeout.hint
    timeout.task_id = 12  # set later by the task that waited
    assert "client.task(12).wait()" in timeout.hint and timeout.hint.startswith("Task 12 ")


# -- the formats and the size limit are spelled in formats.py only -------------------------------

_FORMAT = r"\b(?:JPE?G|PNG|WEBP|GIF|MP4|M4V|MOV|WEBM)\b"
SPELLED_ONCE = {
    "a list of the accepted formats": re.compile(
        rf"{_FORMAT}(?:\s*(?:,|/|or|and)\s*{_FORMAT}){{2,}}"
    ),
    "the size limit": re.compile(r"\b500\s*MB\b", re.I),
    "a refusal sentence": re.compile(r"not a supported|accepts only|accepts at most", re.I),
}
OWNER = PACKAGE / "formats.py"


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that a person may read: not its docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_only_formats_py_spells_the_formats_the_limit_and_the_refusals() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert OWNER in modules and len(modules) > 40
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line} spells {what}: {text[:80]!r}"
        for path in modules
        if path != OWNER
        for line, text in _strings(path)
        for what, pattern in SPELLED_ONCE.items()
        if pattern.search(text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("what", list(SPELLED_ONCE))
def test_the_guard_sees_each_kind_of_restatement(what: str, tmp_path: Path) -> None:
    samples = {
        "a list of the accepted formats": 'HINT = "Convert it to JPG, PNG or GIF."',
        "the size limit": 'f"{name} is over the 500MB limit"',
        "a refusal sentence": 'raise ValueError("x is not a supported file")',
    }
    module = tmp_path / "m.py"
    module.write_text(f'"""Docstrings may say JPG, PNG, GIF and 500 MB."""\n{samples[what]}\n')
    hits = [t for _, t in _strings(module) if SPELLED_ONCE[what].search(t)]
    assert len(hits) == 1 and "Docstrings" not in hits[0]
