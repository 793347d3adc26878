"""Errors of the HD map area: one base, a few kinds. Messages say what, where, expected, got."""

from __future__ import annotations


class HdMapError(Exception):
    """Base of every error the HD map package raises."""


class MapParseError(HdMapError):
    """A map file does not parse: names the file and the element (e.g. ``relation 44968``)."""

    def __init__(self, path: str, element: str, problem: str) -> None:
        super().__init__(f'{path}: {element}: {problem}')
        self.path = path
        self.element = element
        self.problem = problem


class RoutingError(HdMapError):
    """No route between two lanelets, or an unknown lanelet id."""


class ExportError(HdMapError):
    """An intersection cannot be exported (unknown id, no approach lanes)."""
