"""The written form of `cpfnet evaluate table`: a Markdown report like the paper's Table I (FVD first), the
picture grid beside it, and optionally the numbers as JSON. Every file is written atomically."""

from __future__ import annotations

import math
from pathlib import Path

from cpfnet.evaluation.methods import STILL
from cpfnet.evaluation.pictures import labelled_grid, write_png
from cpfnet.evaluation.cases import CROSS_IDENTITY
from cpfnet.evaluation.table import TableResult
from cpfnet.io.atomic import atomic_file, write_json
from cpfnet.io.files import write_text

# (key, header, format, scale): FVD first, as Table I.
COLUMNS = (
    ("fvd", "FVD ↓", "{:.2f}", 1.0),
    ("ssim", "SSIM ↑", "{:.4f}", 1.0),
    ("psnr", "PSNR (dB) ↑", "{:.2f}", 1.0),
    ("ssim_person", "SSIM person ↑", "{:.4f}", 1.0),
    ("psnr_person", "PSNR person (dB) ↑", "{:.2f}", 1.0),
    ("parsing_accuracy", "Parsing acc. ↑", "{:.4f}", 1.0),
    ("parsing_miou", "Parsing mIoU ↑", "{:.4f}", 1.0),
    ("flow_epe", "Flow EPE (px) ↓", "{:.3f}", 1.0),
    ("visibility_accuracy", "Visibility acc. ↑", "{:.4f}", 1.0),
    ("warping_error", "Warping error ×10³ ↓", "{:.3f}", 1e3),
)
STILL_COLUMNS = ("fvd", "ssim", "psnr", "ssim_person", "psnr_person")  # the floor: image metrics only


def _cell(row: dict, key: str, fmt: str, scale: float, shown: bool = True) -> str:
    value = row.get(key)
    if not shown or value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return fmt.format(value * scale)


def markdown(result: TableResult, picture_name: str | None = None) -> str:
    """The report as Markdown text."""
    n = len(result.cases)
    size = result.picture_rows[-1][1][0].shape[0] if result.picture_rows else None
    lines = ["# Evaluation: CPF-Net, its ablations and the baselines (paper Table I)", ""]
    if result.mode == CROSS_IDENTITY:
        lines.append(f"- **Data**: `{result.data}`, synthetic dancers, **cross-identity transfer**: each video's "
                     "ground-truth poses, retargeted to another identity dancing the same motion, drive the transfer "
                     "onto that identity's appearance frame; the ground truth is that identity's own video.")
    else:
        lines.append(f"- **Data**: `{result.data}`, real videos, **self-reconstruction** as in the paper: each "
                     "video's poses drive the transfer onto its own appearance frame; the ground truth is the video.")
    lines.append(f"- **Videos**: {n} (FVD between {n} generated and {n} true clips, Kinetics-400 I3D at 224x224); "
                 f"frames 0-{result.frames - 1} of each ({result.frames} frames)"
                 + (f", compared at {size}x{size}" if size else "") + ".")
    lines += ["", "| Method | " + " | ".join(h for _, h, _, _ in COLUMNS) + " |",
              "| --- | " + " | ".join("---:" for _ in COLUMNS) + " |"]
    for method in result.methods:
        row = result.rows[method.name]
        cells = [_cell(row, key, fmt, scale, method.name != STILL or key in STILL_COLUMNS)
                 for key, _, fmt, scale in COLUMNS]
        lines.append(f"| {method.name} | " + " | ".join(cells) + " |")
    lines += ["", f"The ground truth's own warping error (along its own flow) is "
              f"{result.truth_warping_error * 1e3:.3f} ×10⁻³: a perfect method scores about that.", "",
              "— : the method has no such output (the floor and pix2pixHD make no parsing; only methods with "
              "appearance flow have flow scores; real data has no true flow). "
              "\"w/o fusion\" shares stages 1 and 2 with the full model, hence the same parsing and flow scores.",
              "", "## Methods", ""]
    lines += [f"- **{m.name}**: {m.description}" for m in result.methods]
    if result.notes:
        lines += ["", "## Notes and skipped methods", ""] + [f"- {note}" for note in result.notes]
    lines += ["", "## Videos", "", ", ".join(f"`{c}`" for c in result.cases), "", "## Timings", "",
              "| step | seconds |", "| --- | ---: |"]
    lines += [f"| {k} | {v:.1f} |" for k, v in result.timings.items()]
    if picture_name:
        lines += ["", "## Pictures (as the paper's Fig. 4)", "",
                  f"Rows: source frames, the driving poses, each method, the ground truth; columns: frames of "
                  f"`{result.cases[0]}`.", "", f"![comparison]({picture_name})"]
    lines += ["", "## Metrics", "",
              "FVD: Fréchet distance of I3D logits (IV-B). SSIM: mean over frames; PSNR: from the video's mean "
              "squared error; both then averaged over videos, on the whole frame and on a box around the true "
              "keypoints (\"person\"). Parsing: stage 1's argmax against the "
              "true parsing (dataset-level confusion). Flow: stage 2a's end-point error over the true foreground, "
              "in pixels of the dataset frame, and its visibility accuracy. Warping error: mean squared "
              "difference between each generated frame and the previous one warped along the true video's "
              "optical flow (Lai et al. 2018), colours on [0, 1]. See docs/baseline_and_table.md.", ""]
    return "\n".join(lines)


def to_json(result: TableResult) -> dict:
    return {"data": str(result.data), "mode": result.mode, "frames": result.frames, "videos": result.cases,
            "methods": {m.name: {"runs": str(m.runs) if m.runs else None, **result.rows[m.name]}
                        for m in result.methods},
            "truth_warping_error": result.truth_warping_error, "notes": result.notes, "timings": result.timings}


def write_report(result: TableResult, out: str | Path, json_path: str | Path | None = None) -> dict[str, Path]:
    """Write OUT (Markdown), OUT's stem + .png (the picture grid) and optionally the JSON, each atomically."""
    out = Path(out)
    picture = out.with_suffix(".png")
    written = {}
    if result.picture_rows:
        write_png(picture, labelled_grid(result.picture_rows))
        written["picture"] = picture
    with atomic_file(out) as tmp:
        write_text(tmp, markdown(result, picture.name if result.picture_rows else None))
    written["report"] = out
    if json_path:
        write_json(json_path, to_json(result))
        written["json"] = Path(json_path)
    return written
