"""What the generated UPER encoder (``fast_encode``) and decoder (``fast_decode``) share: a
writer of Python source with named constants, the guard that keeps recursive types from being
unrolled, and the one ``exec`` that turns the source into a function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INDENT = '    '


class SourceWriter:
    """Collects the generated lines, their constants and fresh local names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.active: set[int] = set()  # ids of the nodes being written (recursion guard)
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f'{stem}{self._count}'

    def const(self, value: Any) -> str:
        key = self.name('K')
        self.consts[key] = value
        return key

    def emit(self, depth: int, line: str) -> None:
        self.lines.append(INDENT * depth + line)

    def unrolled(self, node: Any, write: Callable[[], None], recursive: Callable[[], None]) -> None:
        """``write`` the node, or ``recursive`` where it is already being written (a recursive
        type is not unrolled: the caller's fallback handles it)."""
        if id(node) in self.active:
            recursive()
            return
        self.active.add(id(node))
        try:
            write()
        finally:
            self.active.discard(id(node))

    def source(self) -> str:
        return '\n'.join(self.lines) + '\n'


def compile_function(
    source: str, consts: dict[str, Any], where: str, name: str, **globals_: Any
) -> Callable[..., Any]:
    """The function ``name`` that ``source`` defines, with ``consts`` and ``globals_`` as its
    globals (``where`` names it in tracebacks)."""
    namespace: dict[str, Any] = {**globals_, **consts}
    exec(compile(source, where, 'exec'), namespace)
    return namespace[name]
