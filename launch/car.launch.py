"""Start the car topology (config/car.yaml): one component container per process.

ros2 launch v2x_stack car.launch.py [namespace:=NS] [params_file:=FILE] [use_sim_time:=true]
"""

from v2x_runtime.launch_actions import topology_launch_description


def generate_launch_description():
    return topology_launch_description('car')
