"""A sandbox root every user may enter: a trial runs as its own host uid when the tests run as root."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def trial_root():
    root = Path(tempfile.mkdtemp(prefix="safehub-sandbox-test-"))
    root.chmod(0o711)  # enter, not list: what a trial's uid needs to reach its own directory
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
