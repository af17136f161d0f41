"""The habits a contributor relies on: one version, a changelog that names it, a guide that is not stale."""

import importlib.metadata

import vru


def test_installed_version_is_the_one_written_in_the_package():
    installed = importlib.metadata.version("vru")
    assert installed == vru.__version__, (
        f"the installed metadata says {installed} but vru.__version__ is {vru.__version__}: "
        "pyproject.toml must read the version from vru.__version__ (reinstall with `pip install -e .`)"
    )
