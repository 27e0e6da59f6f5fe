"""A missing optional package is explained with an install command that works before PyPI."""

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from odibi_dbx.errors import MissingExtraError

EXTRAS = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]


@pytest.mark.parametrize("extra", ["spark", "delta", "azure", "databricks"])
def test_hint_installs_the_extras_packages(extra):
    error = MissingExtraError("Something", extra, "pkg")
    command, _, aside = str(error).splitlines()[-1].partition("   (")
    assert command == f"    hint: {error.command}" and command.startswith("    hint: pip install ")
    # odibi-dbx itself is not on PyPI: the command names the extra's packages instead
    assert "odibi-dbx" not in command
    named = {str(Requirement(word.strip('"'))) for word in command.split()[3:]}
    assert named == {str(Requirement(r)) for r in EXTRAS[extra]}
    assert f"py3-none-any.whl[{extra}]" in aside
