"""The cases of the comparison table (paper Table I): which test video is transferred onto which target photo,
and what the transfer should give.

- Synthetic dancers rendered with `cpfnet synth --identities-per-motion M` (M >= 2): the source is video
  (A, m), its ground-truth poses drive the transfer (no pose estimation), the target photo is the appearance
  frame of video (B, m), B the next identity dancing motion m, and the ground truth is video (B, m) itself.
  A's poses are retargeted to B's body with anchor_frame = B's appearance index, so the retargeted dance
  stands where B stands in that frame, and the true video is known pixel for pixel.
- Real videos (no identity ids, `cpfnet prepare`): self-reconstruction, as the paper evaluates: the source is
  the video, the target its own appearance frame, the ground truth the video. The video's own poses drive the
  transfer (retargeting a person to themselves would only add error).

`plan_cases` pairs the videos of a dataset, `load_case` reads one pair into a `Case`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpfnet.dataset.layout import VideoFolder, find_videos
from cpfnet.errors import UserError
from cpfnet.ops.crop import crop_to_photo
from cpfnet.transfer.retarget import retarget_poses
from cpfnet.transfer.target import Target

CROSS_IDENTITY = "cross-identity"
SELF_RECONSTRUCTION = "self-reconstruction"
PERSON_MARGIN = 0.15  # of the keypoints' box's longer side, on every side (joints are inside the body's outline)
SSIM_WINDOW = 11


@dataclass
class Case:
    """One test video. Arrays cover the `frames` evaluated frames (S = the dataset's frame size), except
    `poses`, which covers the whole dance (the crop boxes follow the neck relative to `anchor_frame`)."""

    name: str
    source: Path
    truth: Path
    mode: str
    poses: np.ndarray  # [T, 18, 3] the driving dance in the target photo's pixels
    target: Target
    anchor_frame: int
    truth_frames: np.ndarray  # [N, S, S, 3] uint8
    truth_parsing: np.ndarray  # [N, S, S] uint8 LIP ids
    truth_boxes: np.ndarray  # [N, 4] the dataset frames' crop boxes in photo pixels
    person_boxes: np.ndarray  # [N, 4] around the true keypoints, dataset-frame pixels
    truth_flow: np.ndarray | None = None  # [N, S, S, 2] appearance-frame pixels (synthetic only)
    truth_visibility: np.ndarray | None = None  # [N, S, S]

    @property
    def frames(self) -> int:
        return len(self.truth_frames)

    @property
    def size(self) -> int:
        return self.truth_frames.shape[1]


def _is_synthetic(video: VideoFolder) -> bool:
    return video.meta.identity is not None and video.meta.motion is not None


def plan_cases(data: str | Path, frames: int, max_videos: int | None = None) -> tuple[str, list[tuple[Path, Path]], list[str]]:
    """(mode, [(source video, ground-truth video)], notes) for the dataset under `data`.

    Synthetic data must have at least two identities per motion (pairs A -> B, B the next identity of A's
    motion, cyclically); real data (no identity ids) pairs every video with itself. Every video used must
    have at least `frames` frames, and there must be at least 2 cases (FVD needs two clips per set)."""
    videos = [VideoFolder(p) for p in find_videos(data)]
    synthetic = [_is_synthetic(v) for v in videos]
    notes: list[str] = []
    if all(synthetic):
        mode = CROSS_IDENTITY
        by_motion: dict[int, list[VideoFolder]] = defaultdict(list)
        for video in videos:
            by_motion[video.meta.motion].append(video)
        pairs = []
        for motion in sorted(by_motion):
            group = sorted(by_motion[motion], key=lambda v: (v.meta.identity, v.root.name))
            if len(group) < 2:
                notes.append(f"motion {motion} has one identity ({group[0].root.name}): not evaluated")
                continue
            pairs += [(a.root, b.root) for a, b in zip(group, group[1:] + group[:1])]
        if not pairs:
            raise UserError(f"{data}: the synthetic videos have one identity per motion, so no video has a true "
                            "target; make them with `cpfnet synth --identities-per-motion 2` (or more)")
    elif not any(synthetic):
        mode = SELF_RECONSTRUCTION
        pairs = [(v.root, v.root) for v in videos]
    else:
        raise UserError(f"{data} mixes synthetic videos (with identity and motion ids) and real ones; evaluate "
                        "them as two datasets")
    if max_videos is not None:
        if max_videos < 1:
            raise UserError(f"--max-videos must be at least 1, got {max_videos}")
        pairs = pairs[:max_videos]
    lengths = {v.root: len(v) for v in videos}
    for source, truth in pairs:
        for path in (source, truth):
            if lengths[path] < frames:
                raise UserError(f"{path} has {lengths[path]} frames; --frames {frames} needs at least that many "
                                "(lower --frames, at least 9, or use longer videos)")
    if len(pairs) < 2:
        how = "raise --max-videos to 2 or more" if max_videos is not None else "add test videos"
        raise UserError(f"FVD needs at least 2 videos per set, {data} gives {len(pairs)}; {how}")
    return mode, pairs, notes


def person_boxes(keypoints: np.ndarray, size: int, margin: float = PERSON_MARGIN, min_confidence: float = 0.1,
                 min_side: int = 2 * SSIM_WINDOW) -> np.ndarray:
    """Boxes [T, 4] (x0, y0, x1, y1) around each frame's keypoints [T, 18, 3] (confidence >= min_confidence),
    grown by `margin` x the longer side on every side, at least `min_side` wide and high, inside the
    size x size frame. A frame without keypoints gets the whole frame."""
    out = np.tile(np.array([0, 0, size, size], np.float64), (len(keypoints), 1))
    for t, kp in enumerate(keypoints):
        seen = kp[kp[:, 2] >= min_confidence, :2]
        if not len(seen):
            continue
        lo, hi = seen.min(axis=0), seen.max(axis=0)
        grow = margin * float((hi - lo).max())
        lo, hi = lo - grow, hi + grow
        centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, min(min_side, size) / 2)
        lo = np.clip(centre - half, 0, size - 2 * half)
        out[t] = [lo[0], lo[1], lo[0] + 2 * half[0], lo[1] + 2 * half[1]]
    return np.clip(out, 0, size)


def load_case(source: str | Path, truth: str | Path, frames: int, mode: str) -> Case:
    """Read one case: the driving dance (retargeted for cross-identity transfer), the target photo (the true
    video's appearance frame) and the first `frames` frames of ground truth."""
    src, gt = VideoFolder(source), VideoFolder(truth)
    target = Target.from_folder(gt.root)
    anchor = gt.appearance_index
    dance = crop_to_photo(src.poses, src.meta.crop_boxes, src.size)
    if mode == CROSS_IDENTITY:
        try:
            dance = retarget_poses(dance, target.pose_in_photo, anchor_frame=anchor)
        except ValueError as exc:
            raise UserError(f"{src.root}: cannot retarget its poses to {gt.root.name} ({exc})") from None
    n = range(frames)
    has_flow = mode == CROSS_IDENTITY and gt.has_flow
    return Case(
        name=src.root.name if src.root == gt.root else f"{src.root.name} -> {gt.root.name}",
        source=src.root, truth=gt.root, mode=mode, poses=dance, target=target, anchor_frame=anchor,
        truth_frames=np.stack([gt.frame(i) for i in n]),
        truth_parsing=np.stack([gt.parsing(i) for i in n]),
        truth_boxes=np.asarray(gt.meta.crop_boxes[:frames], np.float64),
        person_boxes=person_boxes(gt.poses[:frames], gt.size),
        truth_flow=np.stack([gt.flow(i) for i in n]) if has_flow else None,
        truth_visibility=np.stack([gt.visibility(i) for i in n]) if has_flow else None,
    )
