"""Settings of `cpfnet prepare` (no heavy imports: the CLI reads the defaults for --help)."""

from __future__ import annotations

from dataclasses import dataclass

from cpfnet.errors import UserError
from cpfnet.memory import check_fits

CROP_MODES = ("auto", "fixed", "track")
BACKGROUNDS = ("inpaint", "median")
INPAINT_METHODS = ("telea", "ns")


@dataclass
class PrepareConfig:
    """Settings of `prepare_video` (the `cpfnet prepare` options)."""

    size: int = 448  # crop side in pixels (the paper's 448)
    padding: float = 0.1  # crop margin on each side, fraction of the person's longer side
    crop_mode: str = "auto"  # auto | fixed | track (see crop_track.crop_boxes)
    crop_smoothing: float = 1.0  # seconds of smoothing of a tracking crop box
    savgol_window: int = 7  # Savitzky-Golay window in frames (odd; 1 = no smoothing)
    savgol_order: int = 2  # Savitzky-Golay polynomial order
    max_gap: int = 8  # longest run of frames a missing joint is interpolated over
    min_confidence: float = 0.1  # keypoints below it count as missing
    min_person_fraction: float = 0.5  # the person must be found in at least this fraction of frames
    mask_threshold: float = 0.5  # segmentation probability above which a pixel is the person
    background: str = "inpaint"  # inpaint (the appearance frame, inpainted) | median (fixed camera)
    inpaint_method: str = "telea"  # telea | ns (OpenCV)
    median_frames: int = 24  # frames sampled for --background median (memory: this many frames)
    check_people_every: int = 32  # look for other people every this many frames

    def validate(self) -> None:
        checks = [
            (self.size >= 16, f"--size {self.size}: must be at least 16"),
            (self.padding >= 0, f"--padding {self.padding}: must be >= 0"),
            (self.crop_mode in CROP_MODES, f"--crop {self.crop_mode!r}: use one of {', '.join(CROP_MODES)}"),
            (self.savgol_window >= 1, f"--savgol-window {self.savgol_window}: must be >= 1"),
            (self.savgol_window == 1 or 0 <= self.savgol_order < self.savgol_window,
             f"--savgol-order {self.savgol_order}: must be >= 0 and smaller than --savgol-window "
             f"({self.savgol_window}; 1 turns smoothing off)"),
            (self.max_gap >= 0, f"--max-gap {self.max_gap}: must be >= 0"),
            (0 <= self.min_person_fraction <= 1,
             f"--min-person-fraction {self.min_person_fraction}: must be in [0, 1]"),
            (self.background in BACKGROUNDS, f"--background {self.background!r}: use one of {', '.join(BACKGROUNDS)}"),
            (self.inpaint_method in INPAINT_METHODS, f"inpaint method {self.inpaint_method!r}: use telea or ns"),
            (self.median_frames >= 2, f"--median-frames {self.median_frames}: must be at least 2"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        # One crop as the coarse parser works on it: float32 RGB and a float32 mask at size x size.
        check_fits(self.size * self.size * 4 * 4, f"--size {self.size} (one crop: {self.size} x {self.size} x 4 "
                   "float32)", "use a smaller --size (448, the paper's, is the default)")
