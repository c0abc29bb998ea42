"""densenets: the MobileNet/ShuffleNet papers' dense-prediction models in PyTorch."""

__version__ = "0.1.0"
