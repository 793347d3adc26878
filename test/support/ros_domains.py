"""ROS_DOMAIN_IDs owned by one test process, so parallel workers (pytest-xdist) and two test
runs on one machine never share a DDS domain.

A process claims its domains with an exclusive ``flock`` on ``<tmp>/v2x_stack-ros-domains/<id>
.lock``; the kernel drops the lock when the process ends (even killed), so a crashed run never
leaves a domain claimed. Each process cycles its tests over ``PER_PROCESS`` domains, so a test
never meets the participants a previous test of the same worker left shutting down.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import tempfile
from pathlib import Path

# 0 is everyone's default domain; above 101 Fast DDS's ports (7400 + 250 * id + ...) reach
# Linux's ephemeral port range (32768-60999), where a random outgoing connection may hold them.
DOMAIN_RANGE = range(1, 102)
PER_PROCESS = 5
LOCK_DIR = Path(tempfile.gettempdir()) / 'v2x_stack-ros-domains'


class DomainPool:
    """The domains this process holds (claimed on first use) and a cycle over them."""

    def __init__(self, count: int = PER_PROCESS, lock_dir: Path = LOCK_DIR) -> None:
        self.count = count
        self.lock_dir = lock_dir
        self.domains: list[int] = []
        self._fds: list[int] = []
        self._cycle: itertools.cycle[int] | None = None

    def claim(self) -> list[int]:
        if self.domains:
            return self.domains
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        owner = f'pid {os.getpid()} worker {os.environ.get("PYTEST_XDIST_WORKER", "-")}\n'
        for domain in DOMAIN_RANGE:
            fd = os.open(self.lock_dir / f'{domain}.lock', os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, owner.encode())
            self._fds.append(fd)  # kept open (close-on-exec): the lock lives with this process
            self.domains.append(domain)
            if len(self.domains) == self.count:
                return self.domains
        raise RuntimeError(
            f'only {len(self.domains)} of {self.count} free ROS domains in '
            f'{DOMAIN_RANGE.start}-{DOMAIN_RANGE.stop - 1}: too many test runs at once? '
            f'(owners are written in {self.lock_dir}/*.lock)'
        )

    def next(self) -> int:
        """The next domain of this process's cycle."""
        if self._cycle is None:
            self._cycle = itertools.cycle(self.claim())
        return next(self._cycle)


POOL = DomainPool()


def process_domain() -> int:
    """This process's first domain: its ROS_DOMAIN_ID for anything that reads the environment."""
    return POOL.claim()[0]
