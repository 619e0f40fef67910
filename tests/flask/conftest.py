"""The Flask adapter's own tests: the sites of tests/support run on Flask only here."""

from __future__ import annotations

import pytest


@pytest.fixture
def adapter() -> str:
    """Every ``bank`` and ``lab`` of this folder is the Flask one."""
    return "flask"
