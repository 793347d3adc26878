"""Errors of the driver HMI area. Callers catch ``HmiError``.

Bad input at run time (a malformed warning, a NaN pose) is never raised: it is rejected and
counted in diagnostics. These exceptions are for configuration errors found at start-up.
"""

from v2x_runtime.errors import ParameterError


class HmiError(Exception):
    """Base of every error raised by v2x_nodes.hmi."""


class PriorityConfigError(HmiError, ParameterError):
    """A priority override is malformed; the message names the parameter, the entry and why.

    Also a runtime ``ParameterError``, so that a topology load names the file and component.
    """


class ServerError(HmiError):
    """The HMI web server cannot start (address in use, bad host); names the address."""
