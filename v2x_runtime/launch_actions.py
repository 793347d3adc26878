"""The launch description shared by car/rsu/sim.launch.py: one container per topology process.

Imported only by launch files (it needs ``launch`` and ``launch_ros``); the topology → process
logic it relies on is ``v2x_runtime.launch_plan``, which is ROS-free and tested everywhere.
"""

from __future__ import annotations

from typing import Any


def topology_launch_description(default_config: str) -> Any:
    """Launch arguments ``config``, ``namespace``, ``params_file``, ``use_sim_time``,
    ``log_level``; the containers are planned when the arguments are known.
    """
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    from v2x_runtime.launch_plan import LOG_LEVELS, PACKAGE, config_path, plan_processes

    share = get_package_share_directory(PACKAGE)

    def setup(context: Any) -> list[Any]:
        def arg(name: str) -> str:
            return LaunchConfiguration(name).perform(context)

        plans = plan_processes(
            config_path(share, arg('config')),
            namespace=arg('namespace') or None,
            overrides_file=arg('params_file') or None,
            use_sim_time=arg('use_sim_time').lower() in ('true', '1', 'yes'),
            log_level=arg('log_level'),
        )
        return [
            Node(
                package=plan.package,
                executable=plan.executable,
                namespace=plan.namespace,
                arguments=plan.arguments,
                ros_arguments=plan.ros_arguments,
                parameters=plan.parameters,
                output='screen',
                emulate_tty=True,
            )
            for plan in plans
        ]

    return LaunchDescription(
        [
            DeclareLaunchArgument(
                'config',
                default_value=default_config,
                description='Topology: a name under share/v2x_stack/config or a .yaml path',
            ),
            DeclareLaunchArgument(
                'namespace', default_value='', description="Namespace (default: the topology's)"
            ),
            DeclareLaunchArgument(
                'params_file',
                default_value='',
                description='YAML of {component: {parameter: value}} overriding the topology',
            ),
            DeclareLaunchArgument(
                'use_sim_time', default_value='false', description='Follow /clock'
            ),
            DeclareLaunchArgument(
                'log_level',
                default_value='info',
                choices=list(LOG_LEVELS),
                description='Logging level of every container',
            ),
            OpaqueFunction(function=setup),
        ]
    )
