"""Fixtures of the application tests: the simulator's four-arm junction as a Lanelet2 map."""

from apps_scripted import junction

__all__ = ['junction']
