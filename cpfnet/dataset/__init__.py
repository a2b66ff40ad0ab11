"""The dataset layout shared by synthetic and real videos, and its torch readers."""
