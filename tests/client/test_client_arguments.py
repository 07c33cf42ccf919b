"""Arguments mean what the API says: ``hd`` True/False or is_hd 1 (HD) / 2 (standard)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mio_nb import Client
from mio_nb.errors import MultipleFacesError, error_for


@pytest.mark.parametrize(
    ("hd", "is_hd"), [(True, 1), (False, 2), (1, 1), (2, 2)], ids=["True", "False", "1", "2"]
)
def test_hd_reaches_the_server_as_the_api_defines_it(
    client: Client, media: dict[str, Path], watch, hd: object, is_hd: int
) -> None:
    result = client.swap_image(media["jpg"], media["png"], hd=hd)  # type: ignore[arg-type]
    (row,) = watch.new()
    assert row.params["is_hd"] == is_hd
    (entry,) = client.history()
    assert entry.params == {"hd": is_hd == 1} and result.task_id == entry.task_id


def test_the_603_hint_points_at_the_file_with_several_faces() -> None:
    error = error_for(603, "Multiple faces detected, only one face is allowed.")
    assert isinstance(error, MultipleFacesError)
    assert "The original shows several faces" in error.hint
    assert "new-face photo" not in error.hint
    of_new_face = error_for(603, "Multiple faces detected in the new face image.")
    assert "new-face photo" in of_new_face.hint and "original" not in of_new_face.hint
