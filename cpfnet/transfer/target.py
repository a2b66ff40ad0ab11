"""The target person: one photo prepared like a one-frame video (pose, mask, parsing, crop, background)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cpfnet import prepare
from cpfnet.dataset.layout import VideoFolder, read_rgb
from cpfnet.ops.crop import crop_to_photo

DEFAULT_MAX_SIDE = 1920  # `cpfnet transfer`'s cap on the output's longer side (README: the photo-size policy)

log = logging.getLogger(__name__)


@dataclass
class Target:
    """Everything stages 1-3 need of the target photo.

    image [S, S, 3] uint8 crop; parsing [S, S] LIP ids; pose [18, 3] in crop pixels; box (x0, y0, x1, y1)
    of the crop in photo pixels; background [H, W, 3] the whole photo with the person inpainted; photo
    [H, W, 3] and photo_mask [H, W] bool (the person at full resolution, for the pixel path; None for a
    target read from a dataset folder that keeps only crops)."""

    image: np.ndarray
    parsing: np.ndarray
    pose: np.ndarray
    box: tuple[float, float, float, float]
    background: np.ndarray
    photo: np.ndarray | None = None
    photo_mask: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.image.shape[0]

    @property
    def pose_in_photo(self) -> np.ndarray:
        """[18, 3] keypoints in photo pixels."""
        return crop_to_photo(self.pose, self.box, self.size)

    def resized(self, size: int) -> "Target":
        """The same target with its crop at `size` x `size` (the box in the photo is unchanged)."""
        if size == self.size:
            return self
        scale = size / self.size
        pose = self.pose.copy()
        pose[:, :2] *= scale
        image = cv2.resize(self.image, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        parsing = cv2.resize(self.parsing, (size, size), interpolation=cv2.INTER_NEAREST)
        return Target(image, parsing, pose, self.box, self.background, self.photo, self.photo_mask)

    @classmethod
    def from_folder(cls, folder: str | Path) -> "Target":
        """A dataset folder's appearance frame (`cpfnet prepare PHOTO`, or a `cpfnet synth` video). Where that
        frame's crop is the whole original frame (synthetic videos), the crop is also the full-size photo
        and its parsing the person mask, so the pixel path works; a prepared folder keeps only crops."""
        video = VideoFolder(folder)
        a = video.appearance_index
        full = Path(folder) / "background_full.png"
        background = read_rgb(full) if full.is_file() else video.background()
        image, parsing, box = video.frame(a), video.parsing(a), tuple(video.meta.crop_boxes[a])
        whole = box == (0.0, 0.0, float(background.shape[1]), float(background.shape[0])) and \
            background.shape[:2] == image.shape[:2]
        return cls(image, parsing, video.poses[a].copy(), box, background,
                   image if whole else None, parsing != 0 if whole else None)


def cap_photo(image: np.ndarray, max_side: int | None, name: str = "the target photo") -> np.ndarray:
    """`image` [H, W, 3] scaled down (area filter) so its longer side is at most `max_side` (None or 0: as it
    is). The output video has the photo's size, and every frame is blended, pasted and encoded at it: an
    8000 x 6000 photo costs about 17x a 1920 x 1440 one per frame, for detail no screen shows."""
    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    log.info("%s is %dx%d: scaled to %dx%d (the output's longer side is capped at %d px; --max-side N or "
             "--full-size to change it)", name, width, height, size[0], size[1], max_side)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def prepare_target(photo: str | Path, size: int, max_side: int | None = None) -> Target:
    """`cpfnet prepare`'s steps on one photo file, in memory (see `target_from_image`), after `cap_photo`."""
    return target_from_image(cap_photo(prepare.read_photo(photo), max_side, f"the target photo {photo}"), size)


def target_from_image(image: np.ndarray, size: int) -> Target:
    """`cpfnet prepare`'s steps on one RGB photo [H, W, 3] in memory: pose, mask, parsing, crop at `size`,
    background; the full-size photo and person mask kept for the pixel path."""
    # cpfnet.prepare imports its parts (MediaPipe, OpenCV) on first use: importing transfer stays cheap.
    done = prepare.prepare_photo(image, prepare.PrepareConfig(size=size))
    return Target(done["image"], done["parsing"], done["keypoints"], tuple(float(v) for v in done["box"]),
                  done["background_full"], image, done["mask_full"])
