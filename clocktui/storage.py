"""Where the console keeps history: the per-app SQLite file, and the --db/--no-history choice."""

from __future__ import annotations

import os
import re
from pathlib import Path

from aioclock_core import AioClock
from aioclock_core.stores import MemoryStore, SQLiteReader, SQLiteStore, StoreError

__all__ = [
    "HistoryOptionError",
    "default_db_path",
    "file_stem",
    "history_path",
    "use_history_store",
]


class HistoryOptionError(Exception):
    """--db or --no-history cannot apply to this app; the message says what to do."""


def file_stem(app_name: str) -> str:
    """The app's name as a file name: letters, digits, `.`, `-` and `_` (others become `_`)."""
    return re.sub(r"[^\w.-]+", "_", app_name).strip("._") or "aioclock"


def default_db_path(app_name: str) -> Path:
    """`$XDG_DATA_HOME/clocktui/<app name>.sqlite3` (default `~/.local/share/clocktui/...`)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    home = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return home / "clocktui" / f"{file_stem(app_name)}.sqlite3"


def db_file(db: str) -> Path:
    """The path `--db` names, if it can be a file.

    Raises:
        HistoryOptionError: It is empty, or an existing folder.
    """
    path = Path(db)
    if not db.strip() or path.is_dir():
        what = "is empty" if not db.strip() else "is a folder"
        example = path / "history.sqlite3" if db.strip() else Path("history.sqlite3")
        raise HistoryOptionError(
            f"--db {db!r} {what}: give the path of a history file, e.g. --db {example}"
        )
    return path


def has_own_store(app: AioClock) -> bool:
    """Whether the app configured a store instead of keeping the default MemoryStore."""
    return type(app.store) is not MemoryStore


def use_history_store(app: AioClock, db: str | None, no_history: bool) -> None:
    """Give `app` the console's store before it serves: a SQLite file (`db`, or the
    per-app default), or memory with `no_history`. An app's own store is kept.

    Raises:
        HistoryOptionError: `db` or `no_history` was given for an app with its own store.
        StoreError: The file cannot be used (corrupt, foreign, newer, another app's).
    """
    if has_own_store(app):
        if db is not None or no_history:
            option = "--db" if db is not None else "--no-history"
            raise HistoryOptionError(
                f"{option} cannot apply: the app sets its own store ({app.store!r}). Drop "
                f"{option}, or remove store=... from the app to let the console choose."
            )
        return
    if no_history:
        return
    path = db_file(db) if db is not None else default_db_path(app.name)
    if db is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the history folder {path.parent} ({error.strerror}): pass "
                "--db PATH, or --no-history."
            ) from None
    elif not path.parent.is_dir():
        raise StoreError(f"Cannot create {path}: the folder {path.parent} does not exist.")
    if path.exists():  # fail before the screen starts, not inside it
        SQLiteReader(path, app.name).close()
    app.store = SQLiteStore(path)


def history_path(app: AioClock, db: str | None) -> Path:
    """The file `clocktui history` reads: `db`, the app's own SQLiteStore, or the default.

    Raises:
        HistoryOptionError: The app keeps its history in a store that is not a SQLite file.
    """
    if db is not None:
        return db_file(db)
    store = app.store
    if isinstance(store, SQLiteStore):
        return store.path
    if has_own_store(app):
        raise HistoryOptionError(
            f"The app keeps its history in {store!r}, which `clocktui history` cannot read; "
            "pass --db PATH to read a SQLite history file."
        )
    return default_db_path(app.name)
