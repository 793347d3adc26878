"""Where the package's files are: ``config/`` and friends, in a source tree or a ROS install.

Parameters name files (maps, DBCs, PKI folders) relative to the package, e.g.
``config/maps/intersection.osm``; ``resource_path`` finds them from the working directory,
the source tree, or ``share/v2x_stack`` of a colcon install.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = 'v2x_stack'
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def share_dir() -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE))
    except Exception:  # ament_index absent or the package not installed: no share dir
        return None


def package_roots() -> list[Path]:
    roots = [SOURCE_ROOT] if (SOURCE_ROOT / 'config').is_dir() else []
    share = share_dir()
    if share is not None:
        roots.append(share)
    return roots


def config_dir() -> Path:
    """``config/`` of the source tree, or share/v2x_stack/config of a ROS install."""
    for root in package_roots():
        if (root / 'config').is_dir():
            return root / 'config'
    return Path('config')


def resource_path(path: str | Path) -> Path:
    """``path`` as given if it exists (absolute or from the cwd), else under a package root;
    unchanged when found nowhere, so the caller's error names what was asked for."""
    given = Path(path)
    if given.is_absolute() or given.exists():
        return given
    for root in package_roots():
        if (root / given).exists():
            return root / given
    return given
