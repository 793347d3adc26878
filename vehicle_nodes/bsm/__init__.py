"""BSM generation: own state -> BasicSafetyMessage with path history and prediction."""

from vehicle_nodes.bsm.generator import BsmGenerator
from vehicle_nodes.bsm.path_history import Crumb, PathHistory, PathHistoryConfig, predict_path

__all__ = ['BsmGenerator', 'Crumb', 'PathHistory', 'PathHistoryConfig', 'predict_path']
