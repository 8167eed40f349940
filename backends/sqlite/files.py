"""Database files only their owner can read.

A store holds who was paged, their contacts and review notes: a new database file is made
``0600`` and any folder created for it ``0700``, whatever the umask. SQLite gives the
``-wal`` and ``-shm`` files it creates the mode of the database file, so they follow.
Existing files and folders keep the mode someone gave them.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def create_folders(folder: Path) -> None:
    """Make ``folder`` and any missing parents, each ``0700``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is masked by the umask


def create_private(path: Path) -> None:
    """Create the database file ``path`` (empty, ``0600``) and its folders if it does not
    exist yet; an existing file is left as it is."""
    create_folders(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
