"""The instructor's reference implementations, loaded into the trusted process.

``solutions/`` is trusted code. Its modules import each other by plain name
(``from module import function``), as a submission does, so they are
loaded with the folder briefly on ``sys.path`` and then taken back out of
``sys.modules``: nothing else in the grader can import them by accident.
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from gatelab.errors import ConfigError


class Reference:
    """Reference functions by qualified name."""

    def __init__(self, solutions: Path, modules: Sequence[str]) -> None:
        self.folder = Path(solutions).resolve()
        self.modules = _load(self.folder, tuple(modules))

    def function(self, qualname: str) -> Callable[..., Any]:
        module, name = qualname.split(".")
        try:
            found: Callable[..., Any] = getattr(self.modules[module], name)
            return found
        except (KeyError, AttributeError):
            raise ConfigError(f"{self.folder / (module + '.py')}: the reference has no function {name}()") from None


    def calls_to_parts(self, qualname: str, parts: Sequence[str], args: list[Any]) -> list[tuple[str, list[Any], Any]]:
        """What the reference's ``qualname`` asks of each of its ``parts`` when called on ``args``: every call,
        in order, as (part, its arguments, what the part returned). A correct composite makes these very calls
        when its parts are right, so a student release records them to serve at home what grading serves."""
        made: list[tuple[str, list[Any], Any]] = []
        with self._listening(parts, made):
            self.function(qualname)(*copy.deepcopy(args))
        return made

    @contextlib.contextmanager
    def _listening(self, parts: Sequence[str], made: list[tuple[str, list[Any], Any]]) -> Iterator[None]:
        """Every name a reference module binds to one of ``parts`` stands for a wrapper that notes its calls."""
        undo: list[tuple[types.ModuleType, str, Any]] = []
        for part in parts:
            original = self.function(part)

            def listener(*args: Any, _part: str = part, _original: Callable[..., Any] = original,
                         **kwargs: Any) -> Any:
                noted = copy.deepcopy(list(args) + list(kwargs.values()))
                value = _original(*args, **kwargs)
                made.append((_part, noted, copy.deepcopy(value)))
                return value

            for module in self.modules.values():
                for key, bound in list(vars(module).items()):
                    if bound is original:
                        undo.append((module, key, bound))
                        setattr(module, key, listener)
        try:
            yield
        finally:
            for module, key, bound in reversed(undo):
                setattr(module, key, bound)


def _load(folder: Path, modules: tuple[str, ...]) -> dict[str, types.ModuleType]:
    if not folder.is_dir():
        raise ConfigError(f"{folder}: the reference solutions folder does not exist")
    saved = {name: sys.modules.pop(name) for name in modules if name in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        loaded = {}
        for name in modules:
            try:
                loaded[name] = importlib.import_module(name)
            except Exception as exc:
                raise ConfigError(f"{folder / (name + '.py')}: the reference does not import: "
                                  f"{type(exc).__name__}: {exc}") from exc
        return loaded
    finally:
        sys.path.remove(str(folder))
        for name in modules:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
