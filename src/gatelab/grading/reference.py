"""The instructor's reference implementations, loaded into the trusted process.

``solutions/`` is trusted code. Its modules import each other by plain name
(``from module import function``), as a submission does, so they are
loaded with the folder briefly on ``sys.path`` and then taken back out of
``sys.modules``: nothing else in the grader can import them by accident.
"""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any, Callable, Sequence

from gatelab.errors import ConfigError


class Reference:
    """Reference functions by qualified name."""

    def __init__(self, solutions: Path, modules: Sequence[str]) -> None:
        self.folder = Path(solutions).resolve()
        self.modules = _load(self.folder, tuple(modules))

    def function(self, qualname: str) -> Callable[..., Any]:
        module, name = qualname.split(".")
        try:
            return getattr(self.modules[module], name)
        except (KeyError, AttributeError):
            raise ConfigError(f"{self.folder / (module + '.py')}: the reference has no function {name}()") from None


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
