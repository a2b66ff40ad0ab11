"""Motion transfer: retarget the source's poses to the target's body and run the three stages."""
