"""Copying folders a trainee controls, by file descriptor, so that no link can take us elsewhere.

A submission folder may hold anything: a notebook symlinked to `source/ps1/ps1.ipynb` (a stock
`nbgrader collect`, a shared drive, a careless copy, or an attack), data files linked to the gradebook
or `/etc/hostname`, a link to `/dev/zero`, a FIFO, or a folder swapped for a link while we copy it.
Checking a path and opening it later races with such swaps, so this walk never follows a name twice:
each folder is opened with O_NOFOLLOW | O_DIRECTORY and its entries are opened relative to that
descriptor (openat), each file with O_NOFOLLOW, then checked with fstat on the open descriptor. Only
regular files and folders are copied; everything else is refused with a reason, and size, count and
depth are capped while copying, not after.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 50_000_000
MAX_TOTAL_BYTES = 200_000_000
MAX_FILES = 2_000
MAX_DEPTH = 16
_CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class UntrustedCopyError(ValueError):
    """The folder as a whole cannot be copied (over the total size or file count, or not a folder)."""


@dataclass
class CopyReport:
    files: int = 0
    bytes: int = 0
    refused: list[str] = field(default_factory=list)  # "path: why", one per entry left out


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def copy_untrusted_tree(
    src: Path,
    dest: Path,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> CopyReport:
    """Copies the regular files and folders under `src` into `dest` (created; must not exist).

    Entries that are not regular files or folders, and files over `max_file_bytes`, are left out and
    listed in the report. Going over `max_total_bytes` or `max_files` raises UntrustedCopyError: such a
    submission is refused whole rather than graded half-copied.
    """
    report = CopyReport()
    try:
        root_fd = os.open(src, _DIR_FLAGS)
    except OSError as error:
        raise UntrustedCopyError(f"{src.name} is not a plain folder ({error.strerror})") from None
    try:
        dest.mkdir(parents=True)
        _copy_dir(root_fd, dest, "", 0, report, max_file_bytes, max_total_bytes, max_files)
    finally:
        os.close(root_fd)
    return report


def _copy_dir(
    dir_fd: int,
    dest: Path,
    prefix: str,
    depth: int,
    report: CopyReport,
    max_file_bytes: int,
    max_total_bytes: int,
    max_files: int,
) -> None:
    if depth > MAX_DEPTH:
        report.refused.append(f"{prefix or '.'}: folders nested deeper than {MAX_DEPTH} levels")
        return
    for name in sorted(os.listdir(dir_fd)):
        shown = f"{prefix}{name}"
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except OSError:
            continue  # removed while we were copying
        if stat.S_ISDIR(mode):
            try:
                child_fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                report.refused.append(f"{shown}: changed while being copied (folder swapped for a link?)")
                continue
            try:
                (dest / name).mkdir()
                _copy_dir(
                    child_fd,
                    dest / name,
                    f"{shown}/",
                    depth + 1,
                    report,
                    max_file_bytes,
                    max_total_bytes,
                    max_files,
                )
            finally:
                os.close(child_fd)
            continue
        if not stat.S_ISREG(mode):
            report.refused.append(f"{shown}: {_kind(mode)}, not a file")
            continue
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            report.refused.append(f"{shown}: changed while being copied (file swapped for a link?)")
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped between the stat and the open
                report.refused.append(f"{shown}: {_kind(info.st_mode)}, not a file")
                continue
            if info.st_size > max_file_bytes:
                report.refused.append(
                    f"{shown}: {info.st_size:,} bytes, over the {max_file_bytes:,}-byte limit per file"
                )
                continue
            report.files += 1
            if report.files > max_files:
                raise UntrustedCopyError(f"the submission has more than {max_files} files")
            _copy_fd(fd, dest / name, report, max_file_bytes, max_total_bytes, shown)
        finally:
            os.close(fd)


def _copy_fd(
    fd: int, target: Path, report: CopyReport, max_file_bytes: int, max_total_bytes: int, shown: str
) -> None:
    """Copies from an open descriptor, counting as it goes: a file that grows while read stops at the cap."""
    written = 0
    with open(target, "wb") as out:
        while chunk := os.read(fd, _CHUNK):
            written += len(chunk)
            report.bytes += len(chunk)
            if written > max_file_bytes:
                out.close()
                target.unlink()
                report.refused.append(
                    f"{shown}: grew past the {max_file_bytes:,}-byte limit per file while copied"
                )
                return
            if report.bytes > max_total_bytes:
                raise UntrustedCopyError(f"the submission is larger than {max_total_bytes // 1_000_000} MB")
            out.write(chunk)
