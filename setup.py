"""pip installation of v2x_stack's Python packages, for machines without ROS.

colcon builds the same tree through CMakeLists.txt (ament_cmake); this file serves pip only.
The interface definitions in ``msg/`` travel as package data of ``v2x_runtime`` so that the
message layer finds them in a non-editable install too.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent


class BuildWithInterfaces(build_py):
    """Copy ``msg/*.msg`` into ``v2x_runtime/interfaces/`` of the built package."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / 'v2x_runtime' / 'interfaces'
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted((HERE / 'msg').glob('*.msg')):
            (target / path.name).write_bytes(path.read_bytes())


setup(
    name='v2x-stack',
    version='0.1.0',
    description='ROS 2 vehicle-road cooperation (C-V2X) stack: RSU, vehicle and simulator nodes',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(exclude=('test', 'test.*', 'bench', 'bench.*', 'build', 'install')),
    package_data={'': ['*.asn', '*.dbc', '*.yaml', '*.html', '*.js', '*.css']},
    include_package_data=True,
    cmdclass={'build_py': BuildWithInterfaces},
    install_requires=[
        'numpy>=1.24',
        'scipy>=1.10',
        'pyyaml>=6',
        'rosbags>=0.10.4',
        'mcap>=1.1',
        'asn1tools>=0.166',
        'cryptography>=41',
        'tongsuopy>=1.0.1',
        'cantools>=39',
        'python-can>=4.3',
        'pynmea2>=1.19',
        'pyrtcm>=1.1',
        'pyserial>=3.5',
        'pyproj>=3.6',
        'transforms3d>=0.4.1',
        'open3d-cpu>=0.18; platform_machine == "x86_64"',
        'open3d>=0.18; platform_machine != "x86_64"',
        'matplotlib>=3.7',
        'paho-mqtt>=2.0',
        'tqdm>=4.60',
        'websockets>=12',
        'pysnmp>=7.1',
    ],
    extras_require={
        'test': [
            'pytest>=8',
            'pytest-xdist>=3.8',
            'hypothesis>=6.90',
            'ruff>=0.6',
            'pygnssutils>=1.1',
            'lanelet2>=1.2',
        ]
    },
    entry_points={'console_scripts': ['v2x-stack = v2x_runtime.cli:main']},
)
