from __future__ import annotations

import sys
from pathlib import Path

# The fakes are imported as `tests.azure_fakes`; the repo root is normally on sys.path already.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.azure_fakes.pytest_plugin import *  # noqa: E402, F403
