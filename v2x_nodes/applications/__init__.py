"""V2X applications (T/CSAE 53-2020 Day-1): warnings and speed advice from V2X inputs."""

from v2x_nodes.applications.errors import ApplicationError, ConfigError
from v2x_nodes.applications.node import ApplicationNode, ApplicationSuite
from v2x_nodes.applications.registry import APPLICATIONS

__all__ = ['APPLICATIONS', 'ApplicationError', 'ApplicationNode', 'ApplicationSuite',
           'ConfigError']  # fmt: skip
