"""Errors of the simulator: one base, a few kinds. Messages say what, where, expected, got."""

from __future__ import annotations


class SimError(Exception):
    """Base of every error the simulator raises."""


class ScenarioError(SimError):
    """An invalid scenario file: the file, the path to the field and what was expected."""

    def __init__(self, file: str, path: str, expected: str, got: object = None) -> None:
        self.file = file
        self.path = path
        self.expected = expected
        self.got = got
        where = f'{file}: {path}' if path else file
        text = f'{where}: expected {expected}'
        if got is not None:
            text += f', got {got!r}'
        super().__init__(text)

    def __reduce__(self) -> tuple[type, tuple[str, str, str, object]]:
        # rebuilt from its fields when it crosses a process boundary (``run_all(jobs=...)``)
        return type(self), (self.file, self.path, self.expected, self.got)


class MapError(SimError):
    """A lane network that cannot be built or a route that does not exist on it."""


class RunError(SimError):
    """A run that cannot start (missing output directory, unknown scenario name, ...)."""


class StackError(SimError):
    """A shipped car/RSU topology that does not build: the file, the component and why."""
