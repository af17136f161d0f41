"""The type checker over the public API: mypy, configured in pyproject.toml, is clean on the modules
users import (``vru.api``, ``vru.errors``, ``vru.testing``, ``vru.taxonomy``), and the package says it is
typed (``py.typed``), so a user's own mypy checks their calls against these annotations."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")
ROOT = Path(__file__).resolve().parents[1]


def _mypy(*args: str) -> tuple[str, int]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the [tool.mypy] section of pyproject.toml is read from here
    try:
        out, err, status = mypy_api.run(["--no-incremental", *args])
    finally:
        os.chdir(cwd)
    return out + err, status


@pytest.mark.slow
def test_the_public_api_is_clean_under_the_type_checker():
    out, status = _mypy()
    assert status == 0, out


@pytest.mark.slow
def test_a_users_wrong_call_is_caught_through_the_annotations(tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text("from vru import api, testing\n"
                    "api.init(replace='yes')\n"
                    "testing.staggered_panel(n_units='many')\n")
    out, status = _mypy(str(user))
    assert status == 1
    assert 'Argument "replace" to "init" has incompatible type "str"; expected "bool"' in out
    assert 'Argument "n_units" to "staggered_panel" has incompatible type "str"; expected "int"' in out


def test_the_package_is_marked_typed():
    assert resources.files("vru").joinpath("py.typed").is_file()
