"""The loader: every way of naming an app, and a precise error for every way of failing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clocktui.loader import (
    AttributeMissingError,
    NotAnAppError,
    TargetFormatError,
    TargetNotFoundError,
    UserCodeError,
    load_app,
    parse_target,
)

APPS = Path(__file__).parent.parent / "apps"


@pytest.fixture(autouse=True)
def clean_imports() -> Iterator[None]:
    """Each test imports the fixture modules afresh and leaves sys.path as it found it."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    for name in list(sys.modules):
        if name.startswith("loader_") or name in {"lifespan_fails", "headless_app"}:
            del sys.modules[name]


@pytest.mark.parametrize(
    ("text", "module", "attribute", "is_file"),
    [
        ("myapp:app", "myapp", "app", False),
        ("myapp", "myapp", "app", False),
        ("pkg.mod:make.app", "pkg.mod", "make.app", False),
        ("path/to/file.py:api", "path/to/file.py", "api", True),
        ("file.py", "file.py", "app", True),
    ],
)
def test_parse_target_splits_module_and_attribute(
    text: str, module: str, attribute: str, is_file: bool
) -> None:
    target = parse_target(text)
    assert (target.module, target.attribute, target.is_file) == (module, attribute, is_file)


@pytest.mark.parametrize("text", ["", ":app", "my app:app", "myapp:", "myapp:1x", "a:b:c"])
def test_parse_target_refuses_bad_formats(text: str) -> None:
    with pytest.raises(TargetFormatError, match="expected 'module:attribute'"):
        parse_target(text)


def test_loads_module_attribute_from_app_dir() -> None:
    assert load_app("loader_target:app", app_dir=str(APPS)).name == "loader"


def test_loads_from_a_file_path() -> None:
    assert load_app(f"{APPS / 'loader_target.py'}:application").name == "loader"


def test_factory_is_called() -> None:
    app = load_app("loader_target:make_app", app_dir=str(APPS), factory=True)
    assert app.name == "from factory"


def test_missing_module_is_named() -> None:
    with pytest.raises(TargetNotFoundError, match="Module 'no_such_module' not found"):
        load_app("no_such_module:app", app_dir=str(APPS))


def test_missing_file_is_named() -> None:
    with pytest.raises(TargetNotFoundError, match=r"File 'nowhere/app\.py' not found"):
        load_app("nowhere/app.py:app")


def test_missing_attribute_names_the_module_and_close_matches() -> None:
    with pytest.raises(AttributeMissingError) as caught:
        load_app("loader_target:ap", app_dir=str(APPS))
    assert str(caught.value) == "Module 'loader_target' has no attribute 'ap'; did you mean 'app'?"


def test_object_that_is_not_an_app_is_named_by_type() -> None:
    with pytest.raises(NotAnAppError, match="'loader_target:group' is a Group, not an AioClock"):
        load_app("loader_target:group", app_dir=str(APPS))


def test_function_without_factory_suggests_the_flag() -> None:
    with pytest.raises(NotAnAppError, match="did you mean --factory"):
        load_app("loader_target:make_app", app_dir=str(APPS))


def test_factory_returning_something_else_is_named_by_type() -> None:
    with pytest.raises(NotAnAppError, match="is a int, not an AioClock"):
        load_app("loader_target:make_number", app_dir=str(APPS), factory=True)


def test_exception_in_user_module_keeps_only_user_frames() -> None:
    with pytest.raises(UserCodeError) as caught:
        load_app("loader_raises:app", app_dir=str(APPS))
    trace = caught.value.user_traceback
    assert "loader_raises.py" in trace and "KeyError: 'DATABASE_URL'" in trace
    assert "clocktui" not in trace and "importlib" not in trace


def test_missing_import_inside_user_module_is_a_user_error() -> None:
    with pytest.raises(UserCodeError, match="package_that_is_not_installed"):
        load_app("loader_bad_import:app", app_dir=str(APPS))


def test_exception_in_factory_is_a_user_error() -> None:
    with pytest.raises(UserCodeError, match="LookupError") as caught:
        load_app("loader_target:make_broken", app_dir=str(APPS), factory=True)
    assert "make_broken" in caught.value.user_traceback
