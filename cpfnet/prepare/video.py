"""One video or photo -> one dataset folder (`cpfnet.dataset.layout`), in two streaming passes.

Pass 1 decodes the frames one at a time and keeps only what is small: keypoints [T, 18, 3], the person's
box per frame, and each frame's person mask as a PNG in a scratch folder beside the output (plus a
bounded frame sample for `--background median`). Between the passes the poses get their gaps filled and
are smoothed (III-B), the appearance frame is chosen (largest confidence sum, IV-A1) and the crop boxes
are fixed. Pass 2 decodes again, crops and parses each frame (`cpfnet.prepare.crop_parse`, shared with the
in-memory photo), writes, and inpaints the background when it reaches the appearance frame. Memory therefore
does not depend on the video's length. A photo is a one-frame video (fps 0 in meta.json).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from cpfnet.body.openpose_json import read_openpose_folder
from cpfnet.dataset.layout import VideoFolderWriter, VideoMeta
from cpfnet.errors import UserError
from cpfnet.heap import trim
from cpfnet.io.images import read_image, write_image
from cpfnet.memory import check_fits
from cpfnet.io import lock
from cpfnet.io.atomic import scratch_dir
from cpfnet.ops.crop import crop_box
from cpfnet.overlap import ahead
from cpfnet.prepare.background import MedianBackground, inpaint_background
from cpfnet.prepare.config import PrepareConfig
from cpfnet.prepare.crop_parse import crop_and_parse
from cpfnet.prepare.crop_track import crop_boxes, person_box
from cpfnet.prepare.pose_cleanup import appearance_index, fill_gaps, smooth_poses
from cpfnet.prepare.pose_mediapipe import MIN_KEYPOINTS, Detection, PersonTracker, detect_photo
from cpfnet.prepare.segmentation import mask_box
from cpfnet.prepare.sources import ExternalParsing, FrameSource

log = logging.getLogger(__name__)

@dataclass
class _Analysis:
    """What pass 1 keeps: [T, 18, 3] raw poses, [T, 4] person boxes (NaN rows: nobody), flags."""

    poses: np.ndarray
    boxes: np.ndarray
    found: np.ndarray
    several: int
    median: MedianBackground | None = None


TRIM_EVERY = 100  # frames


def _trim_heap(t: int) -> None:
    """Every TRIM_EVERY frames, hand freed heap pages back to the system (glibc's malloc_trim). Without
    it, the frame-sized buffers that MediaPipe's threads and NumPy allocate and free fragment the heap and
    the resident size creeps up over a long video."""
    if t % TRIM_EVERY == TRIM_EVERY - 1:
        trim()


def _progress(total: int | None, desc: str, position: int | None, enabled: bool):
    return tqdm(total=total, desc=desc, unit="frame", position=position, leave=position is None,
                disable=not enabled, dynamic_ncols=True, mininterval=0.5)


def _analyse(source: FrameSource, config: PrepareConfig, openpose: np.ndarray | None,
             parsing: ExternalParsing | None, scratch: Path | None, bar, masks: bool = True) -> _Analysis:
    """Pass 1 (see the module docstring). `masks=False`: poses alone (a video's frames are not segmented;
    the person's boxes are the keypoints')."""
    use_mediapipe = not (openpose is not None and parsing is not None)
    tracker = PersonTracker(config.check_people_every, mask_threshold=config.mask_threshold, masks=masks) \
        if use_mediapipe and not source.photo else None
    if config.background == "median" and not source.photo:  # it keeps that many whole frames and masks
        check_fits(config.median_frames * source.width * source.height * 4,
                   f"--median-frames {config.median_frames} of {source.width} x {source.height} (frames and masks)",
                   "use fewer --median-frames")
    median = MedianBackground(config.median_frames, source.expected or None) \
        if config.background == "median" and not source.photo else None
    poses, boxes, found, several = [], [], [], 0
    # Decoding runs a few frames ahead in a thread while MediaPipe works on this one (cpfnet.overlap).
    for t, frame in enumerate(ahead(source.frames(), depth=4, name="cpfnet-decode")):
        if (frame.shape[1], frame.shape[0]) != (source.width, source.height):
            raise UserError(f"{source.path}: frame {t} is {frame.shape[1]}x{frame.shape[0]}, not "
                            f"{source.width}x{source.height}; re-encode the video at one size")
        if use_mediapipe:
            det = detect_photo(frame, config.mask_threshold) if source.photo else tracker(frame)
        else:
            det = Detection(np.zeros((18, 3), np.float32), np.zeros(frame.shape[:2], bool))
        mask = det.mask if parsing is None else parsing[t] > 0
        if openpose is not None:
            if t >= len(openpose):
                raise UserError(f"--openpose: {len(openpose)} JSON files, but {source.path} has more frames; "
                                "give one JSON file per frame")
            keypoints = openpose[t].astype(np.float32)
            present = int((keypoints[:, 2] >= 0.5).sum()) >= MIN_KEYPOINTS
        else:
            keypoints, present = det.keypoints, det.found
        several += int(det.several)
        box = person_box(keypoints, mask_box(mask)) if present else None
        poses.append(keypoints)
        boxes.append(box if box is not None else (np.nan,) * 4)
        found.append(present and box is not None)
        if scratch is not None:
            write_image(scratch / f"{t:06d}.png", mask.astype(np.uint8) * 255, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if median is not None:
            median.offer(t, frame, mask)
        bar.update(1)
        _trim_heap(t)
    count = len(poses)
    if source.expected and count + max(1, round(0.02 * source.expected)) < source.expected:
        raise UserError(f"{source.path}: truncated: only {count} of its {source.expected} frames decode; "
                        "re-encode or re-download it")
    for name, items in (("--openpose", openpose), ("--parsing", parsing.files if parsing else None)):
        if items is not None and len(items) != count:
            raise UserError(f"{name}: {len(items)} files for the {count} frames of {source.path}; "
                            "give exactly one per frame")
    return _Analysis(np.stack(poses).astype(np.float32), np.array(boxes, np.float64), np.array(found),
                     several, median)


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n + 1 - n % 2


def _check_person(source: FrameSource, analysis: _Analysis, config: PrepareConfig) -> None:
    count, seen = len(analysis.found), int(analysis.found.sum())
    if seen == 0:
        what = "the photo" if source.photo else f"any of its {count} frames"
        raise UserError(f"{source.path}: no person found in {what}; give a video or photo of one person, "
                        "whole body in view")
    if seen < config.min_person_fraction * count:
        raise UserError(f"{source.path}: a person is found in only {seen} of {count} frames "
                        f"({100 * seen / count:.0f}%, --min-person-fraction is {config.min_person_fraction:g}); "
                        "cut the video to where the person is in view")


def prepare_video(path: str | os.PathLike, out: str | os.PathLike, config: PrepareConfig | None = None,
                  openpose: str | os.PathLike | None = None, parsing: str | os.PathLike | None = None,
                  overwrite: bool = False, progress: bool = True, progress_position: int | None = None) -> Path:
    """Prepare one video or photo into the dataset folder `out` (Sections III-B, IV-A1).

    Args:
        path: a video file (anything FFmpeg reads) or a photo (jpg, png, ...).
        out: the dataset folder to write (meta.json, frames/, parsing/, poses.npy, background*.png).
        config: settings (defaults: 448 crops, MediaPipe poses, coarse parsing, inpainted background).
        openpose: a folder of OpenPose COCO-18 JSON files, one per frame, used instead of MediaPipe's poses.
        parsing: a folder of LIP label PNGs (one per frame, the frames' size), used instead of the coarse parser.
        overwrite: replace an existing `out` (only once the new one is complete).
    Returns:
        `out`. Raises UserError (one line, naming the file) for unusable input; nothing is left behind.
    """
    config = config or PrepareConfig()
    config.validate()
    path, out = Path(path), Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"{out} exists; pass --overwrite to replace it")
    # One writer per dataset folder (cpfnet.io.lock): a second run into it is refused at once.
    with lock.hold(lock.lock_beside(out), f"the dataset folder {out}"):
        if out.exists() and not overwrite:  # a run that held the lock just finished it
            raise UserError(f"{out} exists; pass --overwrite to replace it")
        return _prepare_locked(path, out, config, openpose, parsing, overwrite, progress, progress_position)


def _prepare_locked(path: Path, out: Path, config: PrepareConfig, openpose, parsing, overwrite: bool,
                    progress: bool, progress_position: int | None) -> Path:
    source = FrameSource.open(path)
    openpose_poses = read_openpose_folder(openpose) if openpose is not None else None
    external = ExternalParsing(Path(parsing), source) if parsing is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    total = 2 * source.expected if source.expected else None
    with _progress(total, out.name, progress_position, progress) as bar, \
            scratch_dir(out) as scratch:
        analysis = _analyse(source, config, openpose_poses, external, Path(scratch) if external is None else None,
                            bar)
        _check_person(source, analysis, config)
        count = len(analysis.poses)
        if analysis.several:
            log.warning("%s: more than one person in %d of %d frames; kept the largest", path, analysis.several,
                        count)
        poses = fill_gaps(analysis.poses, config.max_gap, config.min_confidence)
        poses = smooth_poses(poses, config.savgol_window, config.savgol_order, config.min_confidence)
        appearance = appearance_index(poses)
        window = _odd(config.crop_smoothing * (source.fps or 1))
        boxes, crop_mode = crop_boxes(analysis.boxes, config.padding, config.crop_mode, window,
                                       frame_size=(source.width, source.height))
        median = None
        if analysis.median is not None:
            median = analysis.median.result()
            analysis.median = None  # free the frame sample before pass 2
        bar.total = 2 * count
        bar.refresh()
        background_full = None
        size = config.size
        crop_poses = []
        with VideoFolderWriter(out, overwrite=overwrite) as writer:
            for t, frame in enumerate(source.frames()):
                if t >= count:
                    raise UserError(f"{path}: changed while it was being read (more frames on the second pass)")
                if external is not None:
                    labels_full = external[t]
                    mask_full = labels_full > 0
                else:
                    labels_full = None
                    mask_full = read_image(Path(scratch) / f"{t:06d}.png", cv2.IMREAD_GRAYSCALE) > 127
                cropped = crop_and_parse(frame, boxes[t], size, poses[t], config.min_confidence,
                                         mask=None if external is not None else mask_full, labels=labels_full)
                writer.add_frame(cropped.image, cropped.parsing)
                crop_poses.append(cropped.keypoints)
                if t == appearance:
                    background_full = _background(frame, mask_full, median, config)
                bar.update(1)
                _trim_heap(t)
            if writer.num_frames != count:
                raise UserError(f"{path}: changed while it was being read ({writer.num_frames} frames on the second "
                                f"pass, {count} on the first)")
            meta = VideoMeta(
                fps=float(source.fps), size=size, num_frames=count, appearance_index=appearance,
                crop_boxes=[[round(float(v), 3) for v in b] for b in boxes],
                original_size=[source.width, source.height], source=str(path),
                extra={"kind": "photo" if source.photo else "video",
                       "poses": "openpose" if openpose is not None else "mediapipe",
                       "parsing": "external" if external is not None else "coarse",
                       "background": "median" if median is not None else "inpaint",
                       "crop_mode": crop_mode, "person_frames": int(analysis.found.sum()),
                       "several_people_frames": analysis.several, "settings": asdict(config)})
            writer.finish(meta, np.stack(crop_poses), crop_box(background_full, boxes[appearance], size), background_full)
    return out


def _background(frame: np.ndarray, mask: np.ndarray, median, config: PrepareConfig) -> np.ndarray:
    """The full-frame clean background: the median with its unseen holes inpainted, or the appearance
    frame with the person inpainted."""
    if median is not None:
        background, hole = median
        if hole.any():
            background = inpaint_background(background, hole, dilation=0, method=config.inpaint_method)
        return background
    return inpaint_background(frame, mask, method=config.inpaint_method)


def pose_sequence(path: str | os.PathLike, config: PrepareConfig | None = None,
                  progress: bool = True) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Only the poses of a video or photo, in its own pixels: (smoothed keypoints [T, 18, 3], fps, (W, H)).

    What the transfer pipeline needs of the source video (pass 1 without masks, parsing or crops: MediaPipe's
    segmentation is off, a fifth of its time per frame)."""
    config = config or PrepareConfig()
    config.validate()
    source = FrameSource.open(Path(path))
    with _progress(source.expected or None, Path(path).name, None, progress) as bar:
        analysis = _analyse(source, config, None, None, None, bar, masks=False)
    _check_person(source, analysis, config)
    poses = fill_gaps(analysis.poses, config.max_gap, config.min_confidence)
    poses = smooth_poses(poses, config.savgol_window, config.savgol_order, config.min_confidence)
    return poses, source.fps, (source.width, source.height)
