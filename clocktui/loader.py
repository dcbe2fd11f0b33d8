"""Find the user's AioClock from a `module:attr` or `path/to/file.py:attr` target."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import aioclock_core
from aioclock_core import AioClock

__all__ = [
    "Target",
    "LoadError",
    "TargetFormatError",
    "TargetNotFoundError",
    "AttributeMissingError",
    "NotAnAppError",
    "UserCodeError",
    "LoadAbortedError",
    "parse_target",
    "load_app",
]


class LoadError(Exception):
    """The target could not be turned into an app; the message says why, in one line."""


class TargetFormatError(LoadError):
    """The target string is not `module`, `module:attr` or `file.py:attr`."""


class TargetNotFoundError(LoadError):
    """The module or file does not exist."""


class AttributeMissingError(LoadError):
    """The module has no such attribute."""


class NotAnAppError(LoadError):
    """The attribute (or what the factory returned) is not an AioClock."""


class UserCodeError(Exception):
    """The user's own code raised while being imported or called.

    Attributes:
        user_traceback: The traceback, with the console's own frames left out.
    """

    def __init__(self, message: str, user_traceback: str) -> None:
        super().__init__(message)
        self.user_traceback = user_traceback


class LoadAbortedError(Exception):
    """The user's module or factory called sys.exit(), or Ctrl+C interrupted it.

    Attributes:
        exit_code: The code the command should exit with (sys.exit's, or 130 for Ctrl+C).
    """

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Target:
    """A parsed target: a module name or a file path, and a dotted attribute."""

    module: str
    attribute: str
    is_file: bool
    text: str


def parse_target(text: str) -> Target:
    """Split `text` into module (or file) and attribute; the attribute defaults to `app`."""
    module, colon, attribute = text.rpartition(":")
    if not colon:
        module, attribute = text, "app"
    # "C:\\dir\\app.py" has its colon in the drive, not before an attribute.
    if colon and len(module) == 1 and attribute.startswith(("\\", "/")):
        module, attribute = text, "app"
    is_file = module.endswith(".py") or "/" in module or "\\" in module
    valid_module = is_file or all(part.isidentifier() for part in module.split("."))
    valid_attribute = all(part.isidentifier() for part in attribute.split("."))
    if not module or not valid_module or not valid_attribute:
        raise TargetFormatError(
            f"Invalid target {text!r}: expected 'module:attribute', 'module' or "
            "'path/to/file.py:attribute', e.g. 'myapp:app'"
        )
    return Target(module=module, attribute=attribute, is_file=is_file, text=text)


def load_app(text: str, *, app_dir: str | None = None, factory: bool = False) -> AioClock:
    """Import the target and return its AioClock.

    Args:
        text: The target, see `parse_target`.
        app_dir: A directory to import from first (default: the current directory).
        factory: Call the attribute and use what it returns.

    Raises:
        LoadError: With a one-line message naming what is wrong.
        UserCodeError: The user's module or factory raised.
        LoadAbortedError: The user's module or factory exited, or Ctrl+C interrupted it.
    """
    target = parse_target(text)
    if app_dir is not None and not Path(app_dir).is_dir():
        problem = "is a file" if Path(app_dir).exists() else "does not exist"
        raise TargetNotFoundError(
            f"--app-dir {app_dir!r} {problem}: give the folder that holds the app's module, "
            "or leave --app-dir out to import from the current directory"
        )
    directory = str(Path(app_dir or ".").resolve())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module = _import_file(target) if target.is_file else _import_module(target)
    value: object = module
    for part in target.attribute.split("."):
        if not hasattr(value, part):
            raise AttributeMissingError(_missing_message(target, module, part))
        value = getattr(value, part)
    if factory:
        if not callable(value):
            raise NotAnAppError(
                f"{target.text!r} is a {type(value).__name__}, which --factory cannot call"
            )
        assert callable(value)
        with _user_code(f"The factory {target.text!r}"):
            value = value()
    if not isinstance(value, AioClock):
        hint = " (it is callable: did you mean --factory?)" if callable(value) else ""
        raise NotAnAppError(
            f"{target.text!r} is a {type(value).__name__}, not an AioClock app{hint}"
        )
    return value


def _import_module(target: Target) -> ModuleType:
    with _user_code(f"Importing {target.module!r}"):
        try:
            return importlib.import_module(target.module)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if missing == target.module or target.module.startswith(f"{missing}."):
                raise TargetNotFoundError(
                    f"Module {target.module!r} not found (searched the current directory, "
                    "--app-dir and sys.path)"
                ) from None
            raise


def _import_file(target: Target) -> ModuleType:
    path = Path(target.module)
    if not path.is_file():
        raise TargetNotFoundError(f"File {target.module!r} not found")
    name = path.stem if path.stem.isidentifier() else "_clocktui_target"
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    if spec is None or spec.loader is None:
        raise TargetNotFoundError(f"File {target.module!r} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        with _user_code(f"Importing {target.module!r}"):
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextlib.contextmanager
def _user_code(action: str) -> Iterator[None]:
    """Turn what the user's code raises during `action` ("Importing 'x'") into our errors:
    an exception, sys.exit() and Ctrl+C each become one line naming what happened."""
    try:
        yield
    except LoadError:
        raise
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        raise LoadAbortedError(
            f"{action} called sys.exit({exit.code!r}), so clocktui exits with code {code}: "
            "an app's module and factory must not exit (put the exit under "
            "`if __name__ == '__main__':`)",
            code,
        ) from None
    except KeyboardInterrupt as interrupt:
        frames = _user_frames(interrupt)
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        raise LoadAbortedError(f"{action} was interrupted (Ctrl+C){where}", 130) from None
    except Exception as error:
        trace = traceback.TracebackException.from_exception(error)
        trace.stack = _user_frames(error)
        raise UserCodeError(
            f"{action} failed: {type(error).__name__}: {error}", "".join(trace.format())
        ) from None


def _user_frames(error: BaseException) -> traceback.StackSummary:
    """The frames of `error`'s traceback in the user's code (not importlib's or ours)."""
    ours = (
        str(Path(__file__).resolve().parent),
        str(Path(aioclock_core.__file__).resolve().parent),
        str(Path(importlib.__file__).parent),
    )
    return traceback.StackSummary.from_list(
        [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if not frame.filename.startswith(ours) and not frame.filename.startswith("<frozen ")
        ]
    )


def _missing_message(target: Target, module: ModuleType, name: str) -> str:
    candidates = [attribute for attribute in dir(module) if not attribute.startswith("__")]
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    apps = [a for a in candidates if isinstance(getattr(module, a, None), AioClock)]
    hints = close or apps
    hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
    return f"Module {target.module!r} has no attribute {name!r}{hint}"
