"""Synthetic dancers with exact ground truth (`cpfnet synth`).

A procedural articulated 3D body (per-identity shape, hair, clothes, skin, surface-fixed textures) dances
procedural moves in front of a fixed perspective camera and a procedural room, and is rendered by exact,
vectorised ray casting on the CPU. Every pixel knows its body part and the point of that part's surface it
shows, which gives exact LIP parsing, COCO-18 keypoints with visibility, the clean background, and the
appearance flow and visibility that the paper obtains by fitting and rendering a 3D body (paper III-C).
"""
