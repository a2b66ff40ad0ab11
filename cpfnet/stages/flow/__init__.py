"""Stage 2a: flow regression (paper III-C)."""

from cpfnet.stages.flow.losses import FlowLossConfig, end_point_error, flow_loss, flow_metrics
from cpfnet.stages.flow.network import VISIBILITY_CLASSES, FlowRegressor, FlowRegressorConfig

__all__ = ["FlowRegressor", "FlowRegressorConfig", "FlowLossConfig", "flow_loss", "flow_metrics",
           "end_point_error", "VISIBILITY_CLASSES"]
