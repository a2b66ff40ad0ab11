"""File and video input/output."""
