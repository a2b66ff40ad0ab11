"""Real videos and photos in (Sections III-B, IV-A1): poses, person masks, parsing, crops, background.

`prepare_video` turns one video or photo into a dataset folder (`cpfnet.dataset.layout`); `prepare_many`
does a list of them in parallel (the `cpfnet prepare` command); `pose_sequence` gives only a video's
smoothed poses and `prepare_photo` one photo's crop, parsing, keypoints and background in memory. The pieces
are reusable on their own: `estimate_poses`, `fill_gaps`, `smooth_poses`, `person_mask`, `coarse_parsing`,
`crop_boxes`, `inpaint_background`, `median_background`, `read_photo`.
Names are imported on first use, so `import cpfnet.prepare` stays cheap (no MediaPipe, OpenCV, SciPy).

    video.py       prepare_video (two streaming passes), pose_sequence
    photo.py       prepare_photo (in memory)
    crop_parse.py  the crop-mask-parse step both share
    batch.py       prepare_many: PrepareJob, shards, worker processes, PrepareReport
    sources.py     input adapters: FrameSource (a video or photo, read twice), ExternalParsing (--parsing)
"""

from __future__ import annotations

import importlib

_WHERE = {
    "PrepareConfig": "config", "prepare_video": "video", "prepare_many": "batch",
    "pose_sequence": "video", "prepare_photo": "photo", "estimate_poses": "pose_mediapipe", "mediapipe_to_coco": "pose_mediapipe",
    "release_estimators": "pose_mediapipe",
    "detect_photo": "pose_mediapipe", "PersonTracker": "pose_mediapipe", "fill_gaps": "pose_cleanup",
    "smooth_poses": "pose_cleanup", "appearance_index": "pose_cleanup", "person_mask": "segmentation",
    "coarse_parsing": "coarse_parser", "crop_boxes": "crop_track", "person_box": "crop_track",
    "inpaint_background": "background", "median_background": "background",
    "find_inputs": "inputs", "read_photo": "inputs",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
