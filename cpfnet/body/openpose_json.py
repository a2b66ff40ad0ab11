"""Read and write OpenPose's per-frame JSON (`*_keypoints.json`, COCO-18 `pose_keypoints_2d`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.errors import UserError
from cpfnet.io.atomic import write_json


def read_openpose_json(path: str | os.PathLike) -> np.ndarray:
    """One OpenPose JSON file -> [18, 3] keypoints of its largest person (zeros when nobody was found).

    OpenPose writes one entry per person; the one with the largest keypoint bounding box is the dancer."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        people = data["people"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not an OpenPose keypoint JSON ({exc})") from None
    best, best_area = np.zeros((NUM_KEYPOINTS, 3), np.float32), -1.0
    for person in people:
        flat = np.asarray(person.get("pose_keypoints_2d", []), np.float32)
        if flat.size != NUM_KEYPOINTS * 3:
            raise UserError(f"{path}: pose_keypoints_2d has {flat.size // 3} keypoints; cpfnet needs OpenPose's "
                            f"COCO-18 model (run OpenPose with --model_pose COCO)")
        kp = flat.reshape(NUM_KEYPOINTS, 3)
        ok = kp[:, 2] > 0
        area = float(np.ptp(kp[ok, 0]) * np.ptp(kp[ok, 1])) if ok.sum() >= 2 else 0.0
        if area > best_area:
            best, best_area = kp, area
    return best


def read_openpose_folder(folder: str | os.PathLike) -> np.ndarray:
    """A folder of per-frame OpenPose JSON files (sorted by name) -> [T, 18, 3]."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise UserError(f"{folder}: no OpenPose .json files found")
    return np.stack([read_openpose_json(f) for f in files])


def write_openpose_json(path: str | os.PathLike, keypoints: np.ndarray) -> None:
    """Write one pose [18, 3] as an OpenPose JSON file with one person."""
    write_json(path, {"version": 1.3, "people": [{"person_id": [-1],
                                                  "pose_keypoints_2d": [float(v) for v in keypoints.reshape(-1)]}]})
