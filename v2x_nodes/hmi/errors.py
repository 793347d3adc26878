"""Errors of the driver HMI area. Callers catch ``HmiError``.

Bad input at run time (a malformed warning, a NaN pose) is never raised: it is rejected and
counted in diagnostics. These exceptions are for configuration errors found at start-up.
"""


class HmiError(Exception):
    """Base of every error raised by v2x_nodes.hmi."""


class PriorityConfigError(HmiError):
    """A priority override is malformed; the message names the parameter, the entry and why."""


class ServerError(HmiError):
    """The HMI web server cannot start (address in use, bad host); names the address."""
