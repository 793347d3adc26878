"""Python ``logging`` records of a component written through its node's rclpy logger.

Components log through ``ThrottledLogger`` (rate-limited on the component's clock) over a
standard ``logging.Logger``; this handler hands each record to rcutils, so ``--log-level``,
``/rosout`` and the console format are ROS' own.
"""

from __future__ import annotations

import logging
from typing import Any

from rclpy.logging import LoggingSeverity

_SEVERITY = (
    (logging.CRITICAL, LoggingSeverity.FATAL),
    (logging.ERROR, LoggingSeverity.ERROR),
    (logging.WARNING, LoggingSeverity.WARN),
    (logging.INFO, LoggingSeverity.INFO),
)


def severity(levelno: int) -> LoggingSeverity:
    """The rcutils severity of a ``logging`` level (levels in between round down)."""
    for level, sev in _SEVERITY:
        if levelno >= level:
            return sev
    return LoggingSeverity.DEBUG


class RclpyHandler(logging.Handler):
    """Forwards records (with their traceback, if any) to an rclpy logger."""

    def __init__(self, ros_logger: Any) -> None:
        super().__init__()
        self._ros_logger = ros_logger
        self.setFormatter(logging.Formatter('%(message)s'))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._ros_logger.log(self.format(record), severity(record.levelno))
        except Exception:  # a logging failure must never take the node down
            self.handleError(record)


def component_logger(name: str, ros_logger: Any) -> logging.Logger:
    """A non-propagating ``logging.Logger`` that writes through ``ros_logger``.

    Its level follows the rclpy logger's effective level at creation (``--log-level``), so
    suppressed debug lines are not even formatted; rcutils filters again on output.
    """
    logger = logging.getLogger(name)
    logger.handlers = [RclpyHandler(ros_logger)]
    logger.propagate = False
    level = int(ros_logger.get_effective_level())
    logger.setLevel(level if level > 0 else logging.INFO)
    return logger
