"""Segmentors (mmengine BaseModel): backbone + decode head."""
from .encoder_decoder import EncoderDecoder

__all__ = ["EncoderDecoder"]
