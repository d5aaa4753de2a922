"""Start the dashboard on a free port and drive Debian's Chromium (tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
READY = "[data-testid=stApp][data-test-script-state=notRunning]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def dashboard(workspace: Path, timeout: float = 60.0):
    """Run `streamlit run app.py` on the given workspace; yield its base URL once healthy."""
    port = free_port()
    env = {**os.environ, "PTI_WORKSPACE": str(workspace),
           "PTI_WORKSPACES_DIR": str(Path(workspace).parent / "espaces")}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Streamlit n'a pas démarré : {proc.stderr.read().decode()}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright):
    """Debian's Chromium, headless, without any network call of its own."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def map_frame(page):
    """The iframe of the newest Leaflet map on the page (a rerun may briefly keep the old one)."""
    found = None
    for frame in page.frames:
        try:
            if not frame.is_detached() and frame.locator(".leaflet-container").count():
                found = frame
        except Exception:  # noqa: BLE001 - a frame detached while it was being looked at
            continue
    return found
