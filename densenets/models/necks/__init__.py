"""Necks: built from a backbone's ``output_shape()``, dict in, dict out, with their own ``output_shape()``."""
from .base import Neck
from .fpn import FPN
from .ssdlite_extra import SSDLiteExtraLayers

__all__ = ["FPN", "Neck", "SSDLiteExtraLayers"]
