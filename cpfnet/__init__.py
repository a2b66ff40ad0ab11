"""cpfnet: reference implementation of CPF-Net (Collaborative Parsing-Flow video synthesis)."""

__version__ = "0.1.0"
