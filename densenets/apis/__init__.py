"""High-level APIs: build a model from a config + checkpoint, run it on images."""
from .inferencer import Inferencer, collect_images
from .model_loading import CheckpointMismatchError, build_model, load_config, load_model_weights

__all__ = ["Inferencer", "collect_images", "CheckpointMismatchError", "build_model", "load_config", "load_model_weights"]
