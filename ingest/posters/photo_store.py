"""The photo store: uploaded competitor photos as files in the data folder, named by their content.

``<root>/<tenant>/<sha256[:2]>/<sha256>.<ext>``: the same photo uploaded twice is one file, a file never changes
once written (written to a temporary name, flushed, then renamed), and each tenant has its own folder so no lookup
can cross tenants. Files older than the retention period are removed by `PhotoStore.prune` (the observations read
from them stay: a price seen is history, the picture is evidence kept for a while).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from graph.base import check_tenant
from graph.files import fsync, restrict_permissions
from ingest.posters.errors import PhotoTooLargeError

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}
_SHA = re.compile(r"^[0-9a-f]{64}$")


def photo_id(data: bytes) -> str:
    """The id of a photo: the SHA-256 of its bytes, hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class PhotoStore:
    """Content-addressed photo files under ``root``, at most ``max_bytes`` each, kept ``retention_days``."""

    root: Path
    max_bytes: int = 10 * 1024 * 1024
    retention_days: int = 365

    def path(self, tenant: str, sha: str, media_type: str) -> Path:
        """Where the photo with this id and type lives (whether or not it is there)."""
        if not _SHA.match(sha):
            raise ValueError(f"not a photo id: {sha!r}")
        ext = EXTENSIONS.get(media_type, "bin")
        return self.root / check_tenant(tenant) / sha[:2] / f"{sha}.{ext}"

    def put(self, tenant: str, data: bytes, media_type: str) -> tuple[str, bool]:
        """Keep the photo; returns its id and whether the file is new (False: that exact photo was kept already)."""
        if len(data) > self.max_bytes:
            raise PhotoTooLargeError(
                f"照片 {len(data) / 1_048_576:.1f} MB，超过上限 {self.max_bytes / 1_048_576:.0f} MB",
                details={"size_bytes": len(data), "max_bytes": self.max_bytes},
            )
        sha = photo_id(data)
        target = self.path(tenant, sha, media_type)
        if target.exists():
            return sha, False
        target.parent.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / tenant, target.parent):
            restrict_permissions(folder)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        restrict_permissions(tmp)
        fsync(tmp)
        os.replace(tmp, target)
        fsync(target.parent)
        return sha, True

    def get(self, tenant: str, sha: str, media_type: str) -> bytes | None:
        """The photo's bytes, or None when it was never kept or has passed its retention period."""
        target = self.path(tenant, sha, media_type)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, tenant: str, sha: str, media_type: str) -> None:
        """Delete a photo file (a write that failed after the file was kept takes it back)."""
        try:
            self.path(tenant, sha, media_type).unlink()
        except FileNotFoundError:
            pass

    def prune(self, now: dt.datetime | None = None) -> int:
        """Delete photo files kept longer than the retention period; returns how many were deleted."""
        limit = (now.timestamp() if now else time.time()) - self.retention_days * 86_400
        removed = 0
        if not self.root.exists():
            return 0
        for path in self.root.glob("*/*/*.*"):
            if path.name.startswith(".") or not path.is_file():
                continue
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
