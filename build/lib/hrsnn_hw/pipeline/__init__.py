"""The whole flow, design to deployed energy figure, as cached stages (see :mod:`.core`)."""
from .cache import StageCache, StageResult, stage_key
from .core import STAGES, Pipeline, PipelineConfig, environment

__all__ = ["Pipeline", "PipelineConfig", "STAGES", "StageCache", "StageResult", "stage_key", "environment"]
