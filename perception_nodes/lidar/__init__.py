"""Lidar objects: PointCloud2 → ROI → background → ground → clusters → oriented boxes → classes.

Pure numpy/scipy, no components: the nodes in ``perception_nodes.lidar_detector`` wrap it.
"""

from perception_nodes.lidar.boxes import Boxes, fit_boxes
from perception_nodes.lidar.classify import ClassThresholds, ObjectClass, classify_boxes
from perception_nodes.lidar.cloud import Cloud, cloud_from_msg, cloud_to_msg
from perception_nodes.lidar.errors import (
    CloudFieldError,
    CloudLayoutError,
    CloudTooLargeError,
    LidarConfigError,
    LidarError,
)
from perception_nodes.lidar.pipeline import DetectionPipeline, Detections, PipelineConfig

__all__ = [
    'Boxes',
    'ClassThresholds',
    'Cloud',
    'CloudFieldError',
    'CloudLayoutError',
    'CloudTooLargeError',
    'DetectionPipeline',
    'Detections',
    'LidarConfigError',
    'LidarError',
    'ObjectClass',
    'PipelineConfig',
    'classify_boxes',
    'cloud_from_msg',
    'cloud_to_msg',
    'fit_boxes',
]
