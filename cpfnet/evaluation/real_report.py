"""The written form of `cpfnet evaluate real`: a Markdown table, a picture grid (truth | each method) beside
it, and optionally the numbers as JSON; every file written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cpfnet.evaluation.pictures import labelled_grid, write_png
from cpfnet.evaluation.real import FLOOR, RealResult, square_around
from cpfnet.io.atomic import atomic_file, write_json
from cpfnet.io.files import write_text
from cpfnet.ops.crop import crop_box

TILE = 160
COLUMNS_SHOWN = 6


def markdown(result: RealResult, picture_name: str | None = None) -> str:
    videos = ", ".join(f"{name} ({n} frames)" for name, n in result.clips)
    s = result.settings
    lines = [
        "# Real self-reconstruction",
        "",
        f"Videos: {videos}. Frame 0 of each is the target photo, the video itself the truth; its own poses drive "
        f"the transfer. SSIM and PSNR over each true frame's person box (selfie segmentation, grown 10%), frame 0 "
        f"left out, averaged over all scored frames; FVD over {s['fvd_windows']} windows of {s['window']} frames "
        f"(starting every {s['window_stride']}), cut square around the person, 224 x 224.",
        "",
        "| method | FVD ↓ | SSIM person ↑ | PSNR person (dB) ↑ | s / frame |",
        "|---|---|---|---|---|",
    ]
    floor = result.rows.get(FLOOR)
    for name, row in result.rows.items():
        lines.append(f"| {name} | {row['fvd']:.1f} | {row['ssim_person']:.4f} | {row['psnr_person']:.2f} | "
                     f"{row['seconds_per_frame']:.3f} |")
    if floor is not None:
        lines += ["", "Against the floor (SSIM difference, PSNR difference in dB, FVD ratio):", ""]
        for name, row in result.rows.items():
            if name != FLOOR:
                lines.append(f"- {name}: {row['ssim_person'] - floor['ssim_person']:+.4f}, "
                             f"{row['psnr_person'] - floor['psnr_person']:+.2f} dB, "
                             f"{row['fvd'] / floor['fvd']:.2f} x the floor's FVD")
    if picture_name:
        lines += ["", f"![truth and methods]({picture_name})"]
    return "\n".join(lines) + "\n"


def picture(result: RealResult, boxes: np.ndarray) -> np.ndarray:
    """Truth and each method on evenly spaced frames of the first video, cut around the person."""
    truth = result.truth_pictures
    picks = np.linspace(1, len(truth) - 1, COLUMNS_SHOWN).round().astype(int)
    square = square_around(boxes[picks])
    rows = [("truth", [crop_box(truth[i], square, TILE) for i in picks])]
    rows += [(name, [crop_box(frames[i], square, TILE) for i in picks]) for name, frames in result.pictures.items()]
    return labelled_grid(rows, min_cell=TILE)


def write_real_report(result: RealResult, out: str | Path, boxes: np.ndarray, json_path: str | Path | None = None) -> Path:
    """Write OUT (Markdown), OUT's stem + .png (the grid) and optionally the JSON; returns the picture path."""
    out = Path(out)
    picture_path = out.with_suffix(".png")
    write_png(picture_path, picture(result, boxes))
    with atomic_file(out) as tmp:
        write_text(tmp, markdown(result, picture_path.name))
    if json_path is not None:
        write_json(json_path, {"rows": result.rows, "videos": result.clips, "settings": result.settings})
    return picture_path
