"""A job's data files as one content-hashed archive: stored once in the database, cached on each host.

Every submission of an assignment carries the same data files, so 200 queued submissions upload the
archive once and each grading host downloads it once (the cache is keyed by the SHA-256 of the bytes,
which the host checks again before use, so a damaged cache file is fetched anew, never trusted).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from graders.sandbox import SandboxError

MAX_ARCHIVE_BYTES = 60_000_000  # the job's files are capped at 50 MB (Job.collect_files) before packing


def pack(files: dict[str, bytes]) -> tuple[str, bytes]:
    """(sha256, bytes) of a deterministic tar of `files`: same files, same hash, on any host."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def unpack(sha256: str, data: bytes) -> dict[str, bytes]:
    """The files of an archive whose hash is checked first; only plain relative file names pass."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SandboxError(f"the job's file archive {sha256[:12]} does not match its hash")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if not member.isfile() or path.is_absolute() or ".." in path.parts:
                raise SandboxError(f"the job's file archive holds an unsafe entry {member.name!r}")
            extracted = tar.extractfile(member)
            files[path.as_posix()] = extracted.read() if extracted else b""
    return files


class ArchiveCache:
    """Archives this host has already fetched, as files named by their hash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, sha256: str) -> bytes | None:
        path = self.folder / f"{sha256}.tar"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            path.unlink(missing_ok=True)  # damaged: fetch it again
            return None
        return data

    def put(self, sha256: str, data: bytes) -> None:
        handle, partial = tempfile.mkstemp(dir=self.folder, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, self.folder / f"{sha256}.tar")
