"""Where control sockets live and who may use them: the per-user folder, the peer's uid."""

from __future__ import annotations

import os
import socket
import stat
import struct
import sys
import tempfile
from pathlib import Path

from clocktui.storage import file_stem

__all__ = [
    "ControlSocketError",
    "default_socket_dir",
    "default_socket_path",
    "prepare_socket_dir",
    "peer_uid",
    "refusal",
    "user_name",
    "MAX_PATH_BYTES",
]

MAX_PATH_BYTES = 107 if sys.platform.startswith("linux") else 103
"""Longest path a Unix socket can have (sun_path, less its terminating zero)."""


class ControlSocketError(Exception):
    """A control socket cannot be made or reached; the message says what to do."""


def default_socket_dir() -> Path:
    """`$XDG_RUNTIME_DIR/clocktui`, or `<temp dir>/clocktui-<uid>` when it is not set."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute():
        return Path(runtime) / "clocktui"
    return Path(tempfile.gettempdir()) / f"clocktui-{os.getuid()}"


def default_socket_path(app_name: str) -> Path:
    """The socket an app named `app_name` listens on unless told otherwise."""
    return default_socket_dir() / f"{file_stem(app_name)}.sock"


def prepare_socket_dir(folder: Path) -> None:
    """Make `folder` (mode 0700) if missing; refuse one that another user owns or that
    others may enter, since whoever can reach the socket can steer the app.

    Raises:
        ControlSocketError: The folder cannot be made, or is not private to this user.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError as error:
        raise ControlSocketError(
            f"Cannot create the control socket's folder {folder} ({error.strerror}): pass "
            "--socket PATH, or --no-socket."
        ) from None
    if info.st_uid != os.getuid():
        raise ControlSocketError(
            f"The control socket's folder {folder} belongs to {user_name(info.st_uid)}, not "
            f"to you ({user_name(os.getuid())}): pass --socket PATH in a folder of yours."
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ControlSocketError(
            f"The control socket's folder {folder} is open to other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}): run `chmod 700 {folder}`, or pass --socket PATH."
        )


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (SO_PEERCRED on
    Linux, LOCAL_PEERCRED on the BSDs and macOS)."""
    if hasattr(socket, "SO_PEERCRED"):
        credentials = connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
        )
        _pid, uid, _gid = struct.unpack("3i", credentials)
        return int(uid)
    # struct xucred { u_int cr_version; uid_t cr_uid; ... }; SOL_LOCAL is 0, LOCAL_PEERCRED 1.
    credentials = connection.getsockopt(0, getattr(socket, "LOCAL_PEERCRED", 1), 76)
    return int(struct.unpack_from("2I", credentials)[1])


def refusal(peer: int, owner: int) -> str | None:
    """Why a peer of uid `peer` may not use a socket served for `owner` (None: it may).
    Only the owning user may, not even root: the socket steers the app."""
    if peer == owner:
        return None
    return (
        f"refused: this control socket serves {user_name(owner)} only, and you are "
        f"{user_name(peer)}; attach as {user_name(owner)}"
    )


def user_name(uid: int) -> str:
    """`name (uid N)`, or `uid N` for a user without a name."""
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"
