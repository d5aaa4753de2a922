"""One writer at a time per workspace: imports and edits take the folder's lock (a lock on the folder
itself, so no file is added to it), so that two imports at once both land (the second waits)
instead of one overwriting the other."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from diagnostic.errors import InputError, disk_error

WAIT_S = 60.0
_held = threading.local()  # folders whose lock this thread holds (the lock is re-entrant)


@contextmanager
def workspace_lock(path: Path, wait_s: float = WAIT_S):
    """Hold the workspace's write lock, waiting up to `wait_s` seconds for another writer."""
    key = str(Path(path).resolve())
    held = getattr(_held, "paths", None)
    if held is None:
        held = _held.paths = set()
    if key in held:
        yield
        return
    try:
        handle = os.open(Path(path), os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise InputError("l'espace de travail est introuvable ou illisible.",
                         fix="Vérifiez le dossier choisi avec votre administrateur.") from exc
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError("un autre import est en cours dans cet espace de travail depuis plus d'une "
                                     "minute.", fix="Réessayez dans un instant ; rien n'a été modifié.") from None
                time.sleep(0.05)
        held.add(key)
        try:
            yield
        except OSError as exc:  # a read-only folder, a full disk: said in French, nothing half-written
            raise InputError(f"l'espace de travail n'a pas pu être modifié : {disk_error(exc)}") from exc
        finally:
            held.discard(key)
    finally:
        os.close(handle)
