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

    OpenPose writes one entry per person; the one with the largest keypoint bounding box is the dancer.
    Anything else (not JSON, no `people` list, a person without 54 finite numbers) is a UserError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        people = data["people"]
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise UserError(f"{path}: not an OpenPose keypoint JSON ({type(exc).__name__}: {str(exc)[:100]})") from None
    if not isinstance(people, list):
        raise UserError(f"{path}: not an OpenPose keypoint JSON (`people` is a {type(people).__name__}, not a list)")
    best, best_area = np.zeros((NUM_KEYPOINTS, 3), np.float32), -1.0
    for person in people:
        values = person.get("pose_keypoints_2d", []) if isinstance(person, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in values):
            raise UserError(f"{path}: a person's pose_keypoints_2d is not a list of numbers")
        if len(values) != NUM_KEYPOINTS * 3:
            raise UserError(f"{path}: pose_keypoints_2d has {len(values) // 3} keypoints; cpfnet needs OpenPose's "
                            f"COCO-18 model (run OpenPose with --model_pose COCO)")
        try:
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
                kp = np.asarray(values, np.float64).astype(np.float32).reshape(NUM_KEYPOINTS, 3)
        except OverflowError:  # an integer beyond float64
            kp = np.full((NUM_KEYPOINTS, 3), np.inf, np.float32)
        if not np.isfinite(kp).all():
            raise UserError(f"{path}: pose_keypoints_2d holds a value that is not a finite float32 number")
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
