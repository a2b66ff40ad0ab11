"""Poses and person masks from MediaPipe Pose (legacy `solutions` API of mediapipe 0.10.21), as COCO-18.

The paper annotates poses with OpenPose (IV-A1); no OpenPose weights ship offline, so we map
MediaPipe's 33 BlazePose landmarks onto OpenPose's COCO-18 order: the neck is the middle of the
shoulders, eyes, ears and nose come from its face points, and the confidence is its visibility (0 for a
landmark outside the image). Only `model_complexity=1` ships in the wheel (0 and 2 download).

One MediaPipe graph per kind (video tracking, still images) is made per process and reused across
frames and videos: building it is slow, running it is ~40 ms per frame on one CPU core.

Several people: MediaPipe follows the one it finds most prominent, which is not always the largest.
`PersonTracker` looks for everybody (detect, blank the person out, detect again) on the first frame and
every `check_every` frames; when there is more than one, it follows the largest from then on by
blanking the frame outside an enlarged box around it, and says so.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from cpfnet.body.keypoints import NUM_KEYPOINTS
from cpfnet.prepare.segmentation import mask_box, person_mask

# COCO-18 index -> MediaPipe landmark index (the neck, COCO 1, is the middle of 11 and 12).
MEDIAPIPE_INDEX = {
    0: 0,                      # nose
    2: 12, 3: 14, 4: 16,       # right shoulder, elbow, wrist
    5: 11, 6: 13, 7: 15,       # left shoulder, elbow, wrist
    8: 24, 9: 26, 10: 28,      # right hip, knee, ankle
    11: 23, 12: 25, 13: 27,    # left hip, knee, ankle
    14: 5, 15: 2,              # right eye, left eye
    16: 8, 17: 7,              # right ear, left ear
}
NECK = 1
# A frame shows the person when at least this many keypoints have confidence >= 0.5.
MIN_KEYPOINTS = 4


def mediapipe_to_coco(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """MediaPipe landmarks [33, 3] (x, y normalised to [0, 1], visibility) -> COCO-18 [18, 3] in pixels.

    Pixel coordinates are continuous (pixel i spans [i, i+1)), so x_pixel = x * width. A landmark
    outside the image gets confidence 0; the neck's confidence is the smaller of the shoulders'."""
    out = np.zeros((NUM_KEYPOINTS, 3), np.float32)
    for coco, mp_index in MEDIAPIPE_INDEX.items():
        x, y, visibility = landmarks[mp_index]
        out[coco] = (x * width, y * height, visibility)
    out[NECK, :2] = (out[2, :2] + out[5, :2]) / 2
    out[NECK, 2] = min(out[2, 2], out[5, 2])
    inside = (out[:, 0] >= 0) & (out[:, 0] < width) & (out[:, 1] >= 0) & (out[:, 1] < height)
    out[~inside, 2] = 0
    out[:, 2] = np.clip(out[:, 2], 0, 1)
    return out


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence the C++ start-up chatter MediaPipe/TFLite print straight to file descriptor 2."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class MediaPipePose:
    """One MediaPipe Pose graph. `static=True` detects on every image (photos, people search);
    `static=False` tracks one person through a video (call `reset()` between videos).
    `segmentation=False` leaves out the person mask, for poses alone (the landmarks are the same; the mask
    costs about a fifth of the graph's time and its full-size buffers)."""

    def __init__(self, static: bool, smooth_landmarks: bool = False, segmentation: bool = True):
        with _quiet_native_stderr():
            from mediapipe.python.solutions import pose as mp_pose

            # Our own Savitzky-Golay smoothing is zero-phase; MediaPipe's filter lags, so it is off.
            self._graph = mp_pose.Pose(static_image_mode=static, model_complexity=1,
                                       smooth_landmarks=smooth_landmarks, enable_segmentation=segmentation,
                                       smooth_segmentation=segmentation and not static)
            # start_run opens the calculators on the graph's own threads; their notices ("INFO: Created
            # TensorFlow Lite XNNPACK delegate") would otherwise reach stderr later, half of one glued to the
            # start of an error line.
            self._graph._graph.wait_until_idle()
        # The landmark model loads (and prints its notices) on the first person found.
        self._quiet = True

    def process(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """RGB uint8 [H, W, 3] -> (COCO-18 keypoints [18, 3] in pixels, zeros when nobody was found;
        segmentation probability [H, W] float32, or None when nobody was found or segmentation is off)."""
        h, w = image.shape[:2]
        view = np.ascontiguousarray(image).view()
        view.flags.writeable = False  # lets MediaPipe use the buffer without a copy
        if self._quiet:
            with _quiet_native_stderr():
                result = self._graph.process(view)
            self._quiet = result.pose_landmarks is None
        else:
            result = self._graph.process(view)
        if result.pose_landmarks is None:
            return np.zeros((NUM_KEYPOINTS, 3), np.float32), None
        landmarks = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], np.float32)
        return mediapipe_to_coco(landmarks, w, h), result.segmentation_mask

    def reset(self) -> None:
        """Forget the person tracked so far (start of a new video)."""
        # Restarting the graph reopens its models, which print notices from the graph's own threads: run
        # one blank frame, so they are done before stderr is back.
        with _quiet_native_stderr():
            self._graph.reset()
            self._graph.process(np.zeros((64, 64, 3), np.uint8))
        self._quiet = True

    def close(self) -> None:
        self._graph.close()


_ESTIMATORS: dict[tuple[bool, bool], MediaPipePose] = {}


def get_estimator(static: bool, segmentation: bool = True) -> MediaPipePose:
    """This process's MediaPipe graph of the given kind, made on first use and reused afterwards."""
    key = (static, segmentation)
    if key not in _ESTIMATORS:
        _ESTIMATORS[key] = MediaPipePose(static, segmentation=segmentation)
    return _ESTIMATORS[key]


def release_estimators() -> None:
    """Close this process's MediaPipe graphs (the next `get_estimator` makes new ones, about a second each).
    Two graphs hold about 280 MB (models, XNNPACK buffers): a transfer drops them once the source's
    poses are known, before the networks run (README "Performance")."""
    while _ESTIMATORS:
        _ESTIMATORS.popitem()[1].close()


@dataclass
class Detection:
    """One person in one frame: COCO-18 keypoints [18, 3] (zeros when nobody), mask [H, W] bool (all False
    when nobody was found or masks were not asked for), and whether other people were seen in the frame."""

    keypoints: np.ndarray
    mask: np.ndarray
    several: bool = False

    @property
    def found(self) -> bool:
        return int((self.keypoints[:, 2] >= 0.5).sum()) >= MIN_KEYPOINTS

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def box(self, min_confidence: float = 0.3) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) around the mask and the confident keypoints, or None."""
        boxes = []
        m = mask_box(self.mask)
        if m is not None:
            boxes.append(m)
        ok = self.keypoints[:, 2] >= min_confidence
        if ok.any():
            xs, ys = self.keypoints[ok, 0], self.keypoints[ok, 1]
            boxes.append((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
        if not boxes:
            return None
        b = np.array(boxes)
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _detect(estimator: MediaPipePose, image: np.ndarray, mask_threshold: float) -> Detection:
    keypoints, probability = estimator.process(image)
    if probability is None:
        return Detection(keypoints, np.zeros(image.shape[:2], bool))
    mask, others = person_mask(probability, keypoints, threshold=mask_threshold)
    return Detection(keypoints, mask, others)


def _expand(box, factor: float, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    px, py = factor * (x1 - x0), factor * (y1 - y0)
    return (max(0, int(x0 - px)), max(0, int(y0 - py)), min(width, int(np.ceil(x1 + px))),
            min(height, int(np.ceil(y1 + py))))


def find_people(image: np.ndarray, max_people: int = 4, mask_threshold: float = 0.5,
                min_area_fraction: float = 0.05) -> list[Detection]:
    """Everybody in a still image, largest (mask area) first: detect, blank the person out, repeat.

    People smaller than `min_area_fraction` of the largest are dropped (left-overs of a blanked person)."""
    estimator = get_estimator(static=True)
    h, w = image.shape[:2]
    work = image.copy()
    people: list[Detection] = []
    for _ in range(max_people):
        det = _detect(estimator, work, mask_threshold)
        box = det.box()
        if not det.found or box is None:
            break
        people.append(det)
        x0, y0, x1, y1 = _expand(box, 0.1, w, h)
        work[y0:y1, x0:x1] = 127
    people.sort(key=lambda d: d.area, reverse=True)
    if people:
        people = [d for d in people if d.area >= min_area_fraction * people[0].area]
    for d in people:
        d.several = len(people) > 1
    return people


def detect_photo(image: np.ndarray, mask_threshold: float = 0.5) -> Detection:
    """The largest person in a photo [H, W, 3] (`several` set when there are others)."""
    people = find_people(image, mask_threshold=mask_threshold)
    return people[0] if people else Detection(np.zeros((NUM_KEYPOINTS, 3), np.float32),
                                               np.zeros(image.shape[:2], bool))


class PersonTracker:
    """Follows one person through a video, frame by frame (streaming; holds no frames).

    Args:
        check_every: look for other people on the first frame and every this many frames.
        spotlight_margin: once several people were seen, MediaPipe only sees the followed person's box
            enlarged by this fraction of its size on each side (growing while the person is lost).
        mask_threshold: segmentation probability above which a pixel is the person.
        masks: False for poses alone: the frames' detections carry no mask (the people search every
            `check_every` frames still segments, to tell people apart).
    """

    def __init__(self, check_every: int = 32, spotlight_margin: float = 0.5, mask_threshold: float = 0.5,
                 masks: bool = True):
        self.check_every = max(1, check_every)
        self.spotlight_margin = spotlight_margin
        self.mask_threshold = mask_threshold
        self._video = get_estimator(static=False, segmentation=masks)
        self._video.reset()
        self._target = None
        self._spotlight = False
        self._lost = 0
        self._t = 0

    def __call__(self, frame: np.ndarray) -> Detection:
        h, w = frame.shape[:2]
        several = False
        if self._t % self.check_every == 0:
            people = find_people(frame, mask_threshold=self.mask_threshold)
            if len(people) > 1:
                several = True
                if not self._spotlight:
                    self._spotlight = True
                    if self._target is None:  # first sighting: follow the largest
                        self._target = people[0].box()
        work = frame
        if self._spotlight and self._target is not None:
            x0, y0, x1, y1 = _expand(self._target, self.spotlight_margin * (1 + 0.5 * self._lost), w, h)
            work = np.full_like(frame, 127)
            work[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
        det = _detect(self._video, work, self.mask_threshold)
        det.several = det.several or several
        if det.found:
            self._target, self._lost = det.box(), 0
        else:
            self._lost += 1
        self._t += 1
        return det


def estimate_poses(frames: Iterable[np.ndarray], static: bool = False, mask_threshold: float = 0.5) -> np.ndarray:
    """COCO-18 keypoints of the person in each frame: RGB frames [H, W, 3] -> [T, 18, 3] in pixels.

    `static=True` treats the frames as unrelated photos (the largest person of each); otherwise they are a
    video and one person is tracked (without masks). Frames are consumed one at a time (pass a generator for
    videos)."""
    if static:
        return np.stack([detect_photo(f, mask_threshold).keypoints for f in frames])
    tracker = PersonTracker(mask_threshold=mask_threshold, masks=False)
    poses = [tracker(f).keypoints for f in frames]
    return np.stack(poses) if poses else np.zeros((0, NUM_KEYPOINTS, 3), np.float32)
