"""Shared fixtures: a private copy of the demo workspace, the real-data folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from diagnostic.workspace import DEMO_WORKSPACE, load_workspace

OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(autouse=True)
def private_workspaces_root(tmp_path_factory, monkeypatch) -> Path:
    """Each test has its own workspaces root, hence its own sessions' database."""
    root = tmp_path_factory.mktemp("espaces")
    monkeypatch.setenv("PTI_WORKSPACES_DIR", str(root))
    return root


@pytest.fixture
def demo_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the demo workspace that the test may modify; the app opens it."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_WORKSPACE, target)
    monkeypatch.setenv("PTI_WORKSPACE", str(target))
    return target


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real open-data pack ($PTI_REAL_DATA); the test is skipped without it."""
    path = os.environ.get("PTI_REAL_DATA")
    if not path:
        pytest.skip("PTI_REAL_DATA n'est pas défini : jeu de tests sur données réelles ignoré")
    return Path(path)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave files for a person to look at (screenshots)."""
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session", autouse=True)
def demo_network():
    """The demo's road network, built once from its bundled extract so that copies of the demo
    (and the app's tests) start with it, as the app does after its first use."""
    from diagnostic.territory import WGS84
    from diagnostic.travel.network import ensure_network
    ensure_network(DEMO_WORKSPACE, tuple(load_workspace(DEMO_WORKSPACE).communes.to_crs(WGS84).total_bounds))
