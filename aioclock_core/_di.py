"""Dependency injection: the only module that imports fast-depends (lazily: an app
that uses no Depends never pays for importing it)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import FunctionType
from typing import TYPE_CHECKING, Any, get_args, get_origin

if TYPE_CHECKING:
    from fast_depends import Provider

__all__ = [
    "Depends",
    "bind_arguments",
    "bind_dependencies",
    "check_parameters",
    "new_provider",
]


def Depends(
    dependency: Callable[..., Any],
    *,
    use_cache: bool = True,
    cast: bool = True,
    cast_result: bool = False,
) -> Any:
    """Declare a parameter filled by calling `dependency` (fast-depends' `Depends`)."""
    from fast_depends import Depends as make_dependency

    return make_dependency(dependency, use_cache=use_cache, cast=cast, cast_result=cast_result)


def _is_dependency_marker(value: object) -> bool:
    kind = type(value)
    return kind.__name__ == "Dependant" and kind.__module__.startswith("fast_depends.")


def _annotation_has_dependency(annotation: object) -> bool:
    if isinstance(annotation, str):
        return "Depends(" in annotation
    metadata = getattr(annotation, "__metadata__", None)
    if metadata and any(_is_dependency_marker(item) for item in metadata):
        return True
    return get_origin(annotation) is not None and any(
        _annotation_has_dependency(arg) for arg in get_args(annotation)
    )


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters of `func`, with string annotations evaluated where possible."""
    try:
        signature = inspect.signature(func, eval_str=True)
    except Exception:  # an annotation naming something local: keep the strings
        signature = inspect.signature(func)
    return list(signature.parameters.values())


def _takes_nothing(func: Callable[..., Any]) -> bool:
    """Whether `func` is a plain function without parameters, read off its code object:
    `inspect.signature` would also give it an annotations dict for good (about 180 bytes
    a task, in an app of thousands)."""
    if type(func) is not FunctionType:
        return False
    if getattr(func, "__wrapped__", None) is not None or getattr(func, "__signature__", None):
        return False
    code = func.__code__
    return (
        code.co_argcount == 0
        and code.co_kwonlyargcount == 0
        and not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    )


def uses_dependencies(func: Callable[..., Any]) -> bool:
    """Whether any parameter of `func` is declared with `Depends`."""
    if _takes_nothing(func):
        return False
    for parameter in _parameters(func):
        if _is_dependency_marker(parameter.default):
            return True
        if _annotation_has_dependency(parameter.annotation):
            return True
    return False


def check_parameters(func: Callable[..., Any], where: str) -> bool:
    """Refuse, at registration, a task function the scheduler could not call.

    Returns whether it declares dependencies (so nothing inspects it again per serve)."""
    if _takes_nothing(func):
        return False
    parameters = _parameters(func)
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        has_default = parameter.default is not inspect.Parameter.empty
        if has_default or _annotation_has_dependency(parameter.annotation):
            continue
        raise TypeError(
            f"{where}: parameter {parameter.name!r} of {func.__qualname__}() has no default and no "
            f"Depends(...), so the scheduler cannot call it. Give it a default or declare it as "
            f"`{parameter.name}: T = Depends(provider)`."
        )
    injects = any(
        _is_dependency_marker(p.default) or _annotation_has_dependency(p.annotation)
        for p in parameters
    )
    if injects:
        try:
            from fast_depends import inject

            inject(func, dependency_provider=new_provider())
        except AssertionError as problem:  # fast-depends' way of refusing a combination
            raise TypeError(
                f"{where}: {problem}. A sync task can only use sync dependencies: make "
                f"{func.__qualname__}() `async def`, or its dependencies plain `def`."
            ) from None
    return injects


def bind_dependencies(
    func: Callable[..., Any], provider: Provider, *, cast_result: bool = True
) -> Callable[..., Any]:
    """Return `func` with its dependencies resolved at each call (itself if it has none)."""
    if not uses_dependencies(func):
        return func
    from fast_depends import inject

    return inject(func, dependency_provider=provider, cast_result=cast_result)


def bind_arguments(func: Callable[..., Any], provider: Provider) -> Callable[..., Any]:
    """A callable that resolves `func`'s dependencies and returns `(args, kwargs)` for it
    instead of calling it (async if any dependency is): a process task's body runs
    elsewhere, its dependencies here. Dependencies that clean up after a `yield` do so
    before the body runs."""
    from fast_depends import inject

    def collect_instead(model: Any) -> Any:
        if model.is_async:

            async def collect(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
                return args, kwargs

            model.call = collect
        else:
            model.call = lambda *args, **kwargs: (args, kwargs)
        return model

    return inject(func, dependency_provider=provider, cast_result=False, wrap_model=collect_instead)


def new_provider() -> Provider:
    """A fresh dependency provider (one per app, so overrides never leak between apps)."""
    from fast_depends import Provider

    return Provider()
