"""Files of the stores: owner-only permissions, and the flushes that make a rename a durable step."""

from __future__ import annotations

import os
from pathlib import Path


def restrict_permissions(path: Path) -> None:
    """Owner-only access: 0700 for folders, 0600 for files (the store holds customer and price data)."""
    try:
        path.chmod(0o700 if path.is_dir() else 0o600)
    except OSError:
        pass  # a file the process does not own (a shared volume): leave it as the operator set it


def remove(path: Path) -> None:
    """Delete a file if it is there."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') writes to the disk before going on."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
