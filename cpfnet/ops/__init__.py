"""Pure tensor operations (warping, flow resizing)."""
