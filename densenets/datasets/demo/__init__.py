"""Synthetic demo datasets in the real datasets' on-disk formats."""
from .coco_demo import DEMO_CATEGORIES, make_coco_demo, make_tiny_coco_demo

__all__ = ["DEMO_CATEGORIES", "make_coco_demo", "make_tiny_coco_demo"]
