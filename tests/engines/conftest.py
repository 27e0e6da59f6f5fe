"""One `engine` fixture over every registered engine (as Ibis parametrises its backends): each
engine-contract test runs on each engine. Spark uses the one shared local session."""

from __future__ import annotations

from pathlib import Path

import pytest

from odibi_dbx.registry import ENGINES, engine_class


@pytest.fixture(params=[pytest.param(n, marks=getattr(pytest.mark, n)) for n in ENGINES])
def engine(request, tmp_path: Path):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig

    conn = LocalConnection("data", LocalConnectionConfig(type="local", base_path="."), tmp_path)
    kwargs = {}
    if request.param == "spark":
        kwargs["spark"] = request.getfixturevalue("spark")
    eng = engine_class(request.param)(timezone="UTC", connections={"data": conn}, **kwargs)
    eng.start()
    eng.test_connection = conn  # the tests read and write under tmp_path through it
    yield eng
    eng.stop()
