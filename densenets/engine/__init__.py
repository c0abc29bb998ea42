"""Runner glue: atomic checkpoints, safe and checked checkpoint loading, visualisation, collation, tool helpers.

Importing this package allow-lists the exact globals mmengine checkpoints need for ``torch.load(weights_only=True)``
and routes mmengine's local checkpoint loading through :func:`load_checkpoint` (errors name the file); see
:mod:`densenets.engine.checkpoint`.
"""
from .checkpoint import (AtomicLocalBackend, CheckpointReadError, load_checkpoint, register_local_loader,
                         register_safe_globals, safe_globals)
from .checkpoint_hook import AtomicCheckpointHook
from .runner import DenseRunner
from .state_dict import CheckpointMismatchError, KeyMismatch, PartialLoad, load_state_checked
from .collate import list_collate
from .draw import draw_detections, draw_sample, draw_segmentation
from .visualization_hook import DenseVisualizationHook

register_safe_globals()
register_local_loader()

__all__ = [
    "AtomicCheckpointHook",
    "AtomicLocalBackend",
    "CheckpointMismatchError",
    "CheckpointReadError",
    "DenseRunner",
    "KeyMismatch",
    "PartialLoad",
    "load_state_checked",
    "DenseVisualizationHook",
    "draw_detections",
    "draw_sample",
    "draw_segmentation",
    "list_collate",
    "load_checkpoint",
    "register_local_loader",
    "register_safe_globals",
    "safe_globals",
]
