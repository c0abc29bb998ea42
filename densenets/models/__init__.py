"""Models: backbones, necks, heads, detectors, segmentors."""
