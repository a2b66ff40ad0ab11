"""Scoring one method's output on one case, and the table's numbers from the per-video scores:

- SSIM and PSNR on the frame and on the person's box (around the true keypoints, with a margin);
- stage 1: parsing accuracy and mIoU of x_parsing (argmax) against the true parsing (dataset-level
  confusion matrix); stage 2a: flow end-point error over the true foreground and visibility accuracy against
  the true flow (synthetic data: the target photo is B's appearance frame, so B's true flow is exactly what
  the flow network should predict);
- temporal stability: the warping error of the generated video along the true video's optical flow.

FVD (IV-B) needs every video's I3D features at once, so `cpfnet.evaluation.table` computes it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from cpfnet.evaluation.cases import Case
from cpfnet.evaluation.image_metrics import frames_to_batch, mse, ssim
from cpfnet.evaluation.structure_metrics import confusion_matrix, flow_scores, scores_from_confusion
from cpfnet.evaluation.temporal import warping_error


def video_psnr(errors: torch.Tensor, data_range: float = 255.0) -> float:
    """PSNR (dB) of a video from its frames' mean squared errors [N]: 10 log10(range^2 / mean error)."""
    return float(10.0 * torch.log10(data_range ** 2 / errors.double().mean()))


def score_video(generated: dict, case: Case) -> dict:
    """Frame, structure and temporal scores of one method on one case (pure: arrays in, numbers out).

    Returns {"ssim", "ssim_person", "warping_error"} (means over the frames), {"psnr", "psnr_person"} (of the
    video: from the squared error averaged over its frames, so a frame that happens to be exact, such as the
    floor's at the appearance frame, does not make it infinite) and,
    when the method gave them, "parsing_confusion" [20, 20] (add over videos) and the flow sums
    {"epe_sum", "foreground_pixels", "visibility_hits", "pixels"} (add over videos)."""
    fake, real = frames_to_batch(generated["frames"]), frames_to_batch(case.truth_frames)
    if fake.shape != real.shape:
        raise ValueError(f"generated frames {tuple(fake.shape)} and ground truth {tuple(real.shape)} differ")
    out = {
        "ssim": float(ssim(fake, real).mean()),
        "psnr": video_psnr(mse(fake, real)),
        "ssim_person": float(ssim(fake, real, box=case.person_boxes).mean()),
        "psnr_person": video_psnr(mse(fake, real, box=case.person_boxes)),
        "warping_error": warping_error(list(generated["frames"]), list(case.truth_frames))["warping_error"],
    }
    if "parsing" in generated:
        out["parsing_confusion"] = confusion_matrix(generated["parsing"], case.truth_parsing)
    if "flow" in generated and case.truth_flow is not None:
        scores = flow_scores(torch.from_numpy(generated["flow"]).permute(0, 3, 1, 2),
                             torch.from_numpy(case.truth_flow).permute(0, 3, 1, 2),
                             torch.from_numpy(case.truth_visibility.astype(np.int64)),
                             torch.from_numpy(generated["visibility"].astype(np.int64)))
        out.update(epe_sum=scores["epe"] * scores["foreground_pixels"], foreground_pixels=scores["foreground_pixels"],
                   visibility_hits=scores["visibility_accuracy"] * scores["pixels"], pixels=scores["pixels"])
    return out


def summarize(scores: list[dict]) -> dict:
    """Per-video scores of one method -> the table's numbers: means over videos of the frame and temporal
    scores, dataset-level parsing accuracy / mIoU, pixel-weighted flow EPE and visibility accuracy."""
    out = {key: float(np.mean([s[key] for s in scores])) for key in ("ssim", "psnr", "ssim_person", "psnr_person")}
    temporal = [s["warping_error"] for s in scores if not math.isnan(s["warping_error"])]
    out["warping_error"] = float(np.mean(temporal)) if temporal else float("nan")
    if all("parsing_confusion" in s for s in scores):
        parsing = scores_from_confusion(sum(s["parsing_confusion"] for s in scores))
        out.update(parsing_accuracy=parsing["accuracy"], parsing_miou=parsing["miou"])
    if all("epe_sum" in s for s in scores):
        foreground = sum(s["foreground_pixels"] for s in scores)
        out["flow_epe"] = sum(s["epe_sum"] for s in scores) / foreground if foreground else float("nan")
        out["visibility_accuracy"] = sum(s["visibility_hits"] for s in scores) / sum(s["pixels"] for s in scores)
    return out
