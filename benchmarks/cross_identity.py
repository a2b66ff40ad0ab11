"""Cross-identity transfer onto real photos: does the output show the photo's person?

    python benchmarks/cross_identity.py DANCE.mp4 PHOTO_OR_VIDEO... [--runs RUNS] [--frames 60] [--out grid.png]

Transfers the first --frames frames of DANCE onto each target (a photo, or the first frame of a video), with
the pixel path (the default, and with the hidden parts generated) and without it, and prints the mean CIELAB Delta E between each visible body part's colour in
the output and in the photo (cpfnet.evaluation.part_colours); writes a grid (photo | frames) per target.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import torch

from cpfnet import prepare
from cpfnet.evaluation.part_colours import part_colour_distances
from cpfnet.evaluation.pictures import labelled_grid, write_png
from cpfnet.io.video import iter_frames
from cpfnet.ops.crop import crop_box
from cpfnet.transfer.models import load_trained_stages
from cpfnet.transfer.pipeline import TransferPipeline
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import target_from_image

TILE = 256
MODES = {"pixel path": {}, "pixel path, hidden generated": {"generate_hidden": True},
         "no pixel path": {"pixel_path": False}}


def _photo(path: str) -> np.ndarray:
    if path.lower().endswith((".mp4", ".mov", ".avi", ".mkv", ".webm")):
        frame = next(iter_frames(path, count=1))
        scale = 1100 / max(frame.shape[:2])
        return cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame
    return prepare.read_photo(path)


def _tile(image: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * 1.1
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return crop_box(image, (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), TILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dance")
    parser.add_argument("targets", nargs="+")
    parser.add_argument("--runs", default=None)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", default="cross_identity.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stages = load_trained_stages(args.runs)
    poses, _, _ = prepare.pose_sequence(args.dance, progress=False)
    poses = poses[:args.frames]
    rows = []
    for path in args.targets:
        target = target_from_image(_photo(path), stages.size)
        moved = retarget_poses(poses, target.pose_in_photo)
        picks = np.linspace(0, len(moved) - 1, 5).round().astype(int)
        for mode, options in MODES.items():
            outputs = list(TransferPipeline(stages, **options).outputs(moved, target))
            distances = part_colour_distances(outputs, target)
            label = f"{path.split('/')[-1]} {mode}"
            print(f"{label}: mean Delta E {distances.get('all', float('nan')):.1f} ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in distances.items() if k != "all") + ")")
            rows.append((label, [_tile(target.photo, target.box)] + [_tile(outputs[i]["frame"], outputs[i]["box"]) for i in picks]))
    write_png(args.out, labelled_grid(rows, min_cell=TILE))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
