"""One video or photo -> one dataset folder (`cpfnet.dataset.layout`), in two streaming passes.

Pass 1 decodes the frames one at a time and keeps only what is small: keypoints [T, 18, 3], the person's
box per frame, and each frame's person mask as a PNG in a scratch folder beside the output (plus a
bounded frame sample for `--background median`). Between the passes the poses get their gaps filled and
are smoothed (III-B), the appearance frame is chosen (largest confidence sum, IV-A1) and the crop boxes
are fixed. Pass 2 decodes again, crops frame, mask and keypoints, parses, writes, and inpaints the
background when it reaches the appearance frame. Memory therefore does not depend on the video's length.
A photo is a one-frame video (fps 0 in meta.json).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import multiprocessing
import os
import tempfile
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from tqdm import tqdm

from cpfnet.body.openpose_json import read_openpose_folder
from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.dataset.layout import META, VideoFolderWriter, VideoMeta, read_labels
from cpfnet.errors import UserError
from cpfnet.io.video import iter_frames, probe
from cpfnet.ops.crop import crop_box
from cpfnet.prepare.background import MedianBackground, inpaint_background
from cpfnet.prepare.coarse_parser import coarse_parsing
from cpfnet.prepare.config import PrepareConfig
from cpfnet.prepare.crop_track import crop_boxes, person_box, to_crop
from cpfnet.prepare.inputs import dataset_names, is_photo, read_photo, take_shard
from cpfnet.prepare.pose_cleanup import appearance_index, fill_gaps, smooth_poses
from cpfnet.prepare.segmentation import mask_box

log = logging.getLogger(__name__)


@dataclass
class _Source:
    """Frames of a video file or a photo, readable twice."""

    path: Path
    photo: bool
    fps: float
    width: int
    height: int
    expected: int  # frame count the container declares (0: unknown)

    @classmethod
    def open(cls, path: Path) -> "_Source":
        if is_photo(path):
            image = read_photo(path)
            return cls(path, True, 0.0, image.shape[1], image.shape[0], 1)
        info = probe(path)
        return cls(path, False, info.fps, info.width, info.height, info.num_frames)

    def frames(self) -> Iterator[np.ndarray]:
        if self.photo:
            yield read_photo(self.path)
        else:
            yield from iter_frames(self.path)


class _ExternalParsing:
    """A folder of LIP label PNGs, one per frame in name order, each the frame's size."""

    def __init__(self, folder: Path, source: _Source):
        self.folder = Path(folder)
        self.files = sorted(p for p in self.folder.glob("*.png"))
        if not self.files:
            raise UserError(f"--parsing {self.folder}: no .png label files")
        self.source = source

    def __getitem__(self, t: int) -> np.ndarray:
        if t >= len(self.files):
            raise UserError(f"--parsing {self.folder}: {len(self.files)} label PNGs, but {self.source.path} "
                            f"has more frames; give one PNG per frame")
        labels = read_labels(self.files[t])
        if labels.shape != (self.source.height, self.source.width):
            raise UserError(f"{self.files[t]}: {labels.shape[1]}x{labels.shape[0]} labels for "
                            f"{self.source.width}x{self.source.height} frames; give them at the frames' size")
        if labels.max(initial=0) >= NUM_LABELS:
            raise UserError(f"{self.files[t]}: label {int(labels.max())} is not a LIP label (0-{NUM_LABELS - 1})")
        return labels


@dataclass
class _Analysis:
    """What pass 1 keeps: [T, 18, 3] raw poses, [T, 4] person boxes (NaN rows: nobody), flags."""

    poses: np.ndarray
    boxes: np.ndarray
    found: np.ndarray
    several: int
    median: MedianBackground | None = None


def _load_malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_MALLOC_TRIM = _load_malloc_trim()
TRIM_EVERY = 100  # frames


def _trim_heap(t: int) -> None:
    """Every TRIM_EVERY frames, hand freed heap pages back to the system (glibc's malloc_trim). Without
    it, the frame-sized buffers that MediaPipe's threads and NumPy allocate and free fragment the heap and
    the resident size creeps up over a long video."""
    if _MALLOC_TRIM is not None and t % TRIM_EVERY == TRIM_EVERY - 1:
        _MALLOC_TRIM(0)


def _progress(total: int | None, desc: str, position: int | None, enabled: bool):
    return tqdm(total=total, desc=desc, unit="frame", position=position, leave=position is None,
                disable=not enabled, dynamic_ncols=True, mininterval=0.5)


def _analyse(source: _Source, config: PrepareConfig, openpose: np.ndarray | None,
             parsing: _ExternalParsing | None, scratch: Path | None, bar) -> _Analysis:
    """Pass 1 (see the module docstring)."""
    from cpfnet.prepare.pose_mediapipe import MIN_KEYPOINTS, Detection, PersonTracker, detect_photo

    use_mediapipe = not (openpose is not None and parsing is not None)
    tracker = PersonTracker(config.check_people_every, mask_threshold=config.mask_threshold) \
        if use_mediapipe and not source.photo else None
    median = MedianBackground(config.median_frames, source.expected or None) \
        if config.background == "median" and not source.photo else None
    poses, boxes, found, several = [], [], [], 0
    for t, frame in enumerate(source.frames()):
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
            cv2.imwrite(str(scratch / f"{t:06d}.png"), mask.astype(np.uint8) * 255, [cv2.IMWRITE_PNG_COMPRESSION, 1])
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


def _check_person(source: _Source, analysis: _Analysis, config: PrepareConfig) -> None:
    count, seen = len(analysis.found), int(analysis.found.sum())
    if seen == 0:
        what = "the photo" if source.photo else f"any of its {count} frames"
        raise UserError(f"{source.path}: no person found in {what}; give a video or photo of one person, "
                        "whole body in view")
    if seen < config.min_person_fraction * count:
        raise UserError(f"{source.path}: a person is found in only {seen} of {count} frames "
                        f"({100 * seen / count:.0f}%, --min-person-fraction is {config.min_person_fraction:g}); "
                        "cut the video to where the person is in view")


def _resolve_external(root: str | os.PathLike | None, path: Path, name: str, single: bool,
                      option: str) -> Path | None:
    """The per-input folder of --openpose/--parsing: ROOT/<name> or ROOT/<stem>, or ROOT itself for one input."""
    if root is None:
        return None
    root = Path(root)
    for candidate in (root / name, root / path.stem):
        if candidate.is_dir():
            return candidate
    if single and root.is_dir():
        return root
    raise UserError(f"{option} {root}: no folder {name}/ for {path}; with several inputs give one subfolder "
                    "per input, named after it")


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
    source = _Source.open(path)
    openpose_poses = read_openpose_folder(openpose) if openpose is not None else None
    external = _ExternalParsing(Path(parsing), source) if parsing is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    total = 2 * source.expected if source.expected else None
    with _progress(total, out.name, progress_position, progress) as bar, \
            tempfile.TemporaryDirectory(prefix=f".{out.name}.masks-", dir=out.parent) as scratch:
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
        with VideoFolderWriter(out, overwrite=overwrite) as writer:
            for t, frame in enumerate(source.frames()):
                if t >= count:
                    raise UserError(f"{path}: changed while it was being read (more frames on the second pass)")
                box = boxes[t]
                crop = crop_box(frame, box, size)
                if external is not None:
                    labels_full = external[t]
                    mask_full = labels_full > 0
                    labels = crop_box(labels_full, box, size, labels=True, border="constant")
                else:
                    mask_full = cv2.imread(str(Path(scratch) / f"{t:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127
                    mask = crop_box(mask_full.astype(np.uint8) * 255, box, size, border="constant") >= 128
                    labels = coarse_parsing(mask, to_crop(poses[t], box, size), crop, config.min_confidence)
                writer.add_frame(crop, labels)
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
            crop_poses = np.stack([to_crop(poses[t], boxes[t], size) for t in range(count)])
            writer.finish(meta, crop_poses, crop_box(background_full, boxes[appearance], size), background_full)
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

    What the transfer pipeline needs of the source video (pass 1 without masks, parsing or crops)."""
    config = config or PrepareConfig()
    config.validate()
    source = _Source.open(Path(path))
    with _progress(source.expected or None, Path(path).name, None, progress) as bar:
        analysis = _analyse(source, config, None, None, None, bar)
    _check_person(source, analysis, config)
    poses = fill_gaps(analysis.poses, config.max_gap, config.min_confidence)
    poses = smooth_poses(poses, config.savgol_window, config.savgol_order, config.min_confidence)
    return poses, source.fps, (source.width, source.height)


def prepare_photo(image: np.ndarray, config: PrepareConfig | None = None) -> dict[str, np.ndarray]:
    """One photo in memory, as `prepare_video` would write it (the transfer pipeline's target photo).

    Args:
        image: RGB uint8 [H, W, 3], upright (`read_photo` reads files so).
    Returns:
        dict: `image` crop [S, S, 3], `parsing` [S, S] uint8 LIP, `keypoints` [18, 3] in crop pixels,
        `box` [4] (x0, y0, x1, y1) in photo pixels, `background` [S, S, 3] (the crop's clean background),
        `background_full` [H, W, 3], `keypoints_full` [18, 3] and `mask_full` [H, W] bool in photo pixels.
        Raises UserError when nobody is in the photo.
    """
    from cpfnet.prepare.pose_mediapipe import detect_photo

    config = config or PrepareConfig()
    config.validate()
    h, w = image.shape[:2]
    det = detect_photo(image, config.mask_threshold)
    box = person_box(det.keypoints, mask_box(det.mask)) if det.found else None
    if box is None:
        raise UserError("no person found in the photo; give a photo of one person, whole body in view")
    if det.several:
        log.warning("more than one person in the photo; kept the largest")
    boxes, _ = crop_boxes(np.array([box]), config.padding, "fixed", frame_size=(w, h))
    size = config.size
    crop = crop_box(image, boxes[0], size)
    mask = crop_box(det.mask.astype(np.uint8) * 255, boxes[0], size, border="constant") >= 128
    keypoints = to_crop(det.keypoints, boxes[0], size)
    background_full = inpaint_background(image, det.mask, method=config.inpaint_method)
    return {"image": crop, "parsing": coarse_parsing(mask, keypoints, crop, config.min_confidence),
            "keypoints": keypoints, "box": boxes[0], "background": crop_box(background_full, boxes[0], size),
            "background_full": background_full, "keypoints_full": det.keypoints, "mask_full": det.mask}


# ----------------------------------------------------------------------------------------------------------
# Many inputs: shards, worker processes, failures collected.


@dataclass
class PrepareReport:
    """What `prepare_many` did: folders written, inputs skipped (already done), (input, message) failures."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


_WORKER_SLOT: int | None = None


def _init_worker(level: int, slots) -> None:
    global _WORKER_SLOT
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _WORKER_SLOT = slots.get()


def _prepare_one(job: dict) -> tuple[str, str]:
    """Run one input; never raises (so one bad input cannot stop the others)."""
    try:
        position = None if _WORKER_SLOT is None else _WORKER_SLOT + 1
        out = prepare_video(job["path"], job["out"], job["config"], job["openpose"], job["parsing"],
                            job["overwrite"], job["progress"], position)
        return "done", str(out)
    except UserError as exc:
        return "failed", str(exc)
    except Exception as exc:  # a bug or an unforeseen file problem: report it, carry on with the others
        log.debug("%s failed:\n%s", job["path"], traceback.format_exc())
        return "failed", f"{job['path']}: unexpected {type(exc).__name__}: {exc} (run with -v for details)"


def prepare_many(inputs: list[Path], out_root: str | os.PathLike, config: PrepareConfig | None = None,
                 workers: int = 1, shard: tuple[int, int] | None = None, overwrite: bool = False,
                 skip_existing: bool = False, openpose: str | os.PathLike | None = None,
                 parsing: str | os.PathLike | None = None, progress: bool = True) -> PrepareReport:
    """Prepare each input into OUT_ROOT/<name> (name: the input's stem, deduplicated over all inputs, so
    every shard names alike). `shard=(i, n)` takes inputs i, i+n, i+2n, ...; `workers` processes run
    inputs in parallel, each with its own MediaPipe graphs. Failures are collected, not raised."""
    config = config or PrepareConfig()
    config.validate()
    out_root = Path(out_root)
    names = dataset_names(inputs)
    report = PrepareReport()
    jobs = []
    for path, name in take_shard(list(zip(inputs, names)), shard):
        out = out_root / name
        if skip_existing and (out / META).is_file():
            report.skipped.append(out)
            continue
        try:
            if out.exists() and not overwrite:
                raise UserError(f"{out} exists; pass --overwrite to replace it or --skip-existing to keep it")
            jobs.append({"path": path, "out": out, "config": config, "overwrite": overwrite,
                         "progress": progress,
                         "openpose": _resolve_external(openpose, path, name, len(inputs) == 1, "--openpose"),
                         "parsing": _resolve_external(parsing, path, name, len(inputs) == 1, "--parsing")})
        except UserError as exc:
            report.failed.append((path, str(exc)))
    overall = tqdm(total=len(jobs), desc="inputs", unit="input", disable=not progress or len(jobs) < 2,
                   position=0, dynamic_ncols=True)

    def record(job, status, message):
        if status == "done":
            report.done.append(Path(message))
        else:
            report.failed.append((job["path"], message))
        overall.update(1)

    with overall:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                record(job, *_prepare_one(job))
        else:
            context = multiprocessing.get_context("spawn")  # MediaPipe's threads do not survive fork
            slots = context.Queue()
            count = min(workers, len(jobs))
            for i in range(count):
                slots.put(i)
            with concurrent.futures.ProcessPoolExecutor(count, mp_context=context, initializer=_init_worker,
                                                        initargs=(logging.getLogger().level, slots)) as pool:
                futures = {pool.submit(_prepare_one, job): job for job in jobs}
                for future in concurrent.futures.as_completed(futures):
                    job = futures[future]
                    try:
                        outcome = future.result()
                    except concurrent.futures.process.BrokenProcessPool as exc:  # a worker died (out of memory?)
                        outcome = ("failed", f"{job['path']}: its worker process died ({exc})")
                    record(job, *outcome)
    report.failed.sort(key=lambda item: str(item[0]))
    return report
