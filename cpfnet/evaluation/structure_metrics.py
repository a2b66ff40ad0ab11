"""Structure metrics of the intermediate stages: parsing accuracy / mIoU (stage 1) and flow end-point
error / visibility accuracy (stage 2a), against ground truth (the synthetic dancers have all of it).

Parsing uses LIP's 20 labels (`cpfnet.body.parsing_labels`). Scores come from a confusion matrix, so a
caller accumulates frames and videos by adding matrices and scores the sum once (the usual dataset-level
mIoU); the mean IoU runs over the labels present, i.e. those in the ground truth or the prediction.

Flow follows the appearance-flow contract (`cpfnet.stages.flow.losses`): flow [B, 2, H, W] holds the
absolute (x, y) appearance-image pixel of every pixel; visibility is 0 visible in the appearance image,
1 hidden there, 2 background. The EPE is averaged over the ground-truth foreground (visibility 0 or 1),
as the stage's loss is; background targets are ignored, even when NaN. `epe_visible` restricts it to
pixels visible in the appearance image, the ones whose flow decides the copied texture.
"""

from __future__ import annotations

import numpy as np
import torch

from cpfnet.body.parsing_labels import NUM_LABELS

VISIBLE, HIDDEN, BACKGROUND = 0, 1, 2
VISIBILITY_CLASSES = 3


def _labels(name: str, value: torch.Tensor | np.ndarray, num_classes: int) -> torch.Tensor:
    value = torch.as_tensor(value)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer labels, got {value.dtype}")
    value = value.long()
    if value.numel() and (int(value.min()) < 0 or int(value.max()) >= num_classes):
        raise ValueError(f"{name} has labels outside 0..{num_classes - 1} "
                         f"(found {int(value.min())}..{int(value.max())})")
    return value


def confusion_matrix(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray,
                     num_classes: int = NUM_LABELS) -> torch.Tensor:
    """Counts [K, K] int64: row = ground-truth label, column = predicted label.

    pred, target: integer label maps of one shape ([H, W], [B, H, W], ...).
    """
    pred = _labels("pred", pred, num_classes)
    target = _labels("target", target, num_classes)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target label maps differ in shape: {list(pred.shape)} and {list(target.shape)}")
    index = (target.reshape(-1) * num_classes + pred.reshape(-1)).cpu()
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def scores_from_confusion(confusion: torch.Tensor) -> dict:
    """{"accuracy": pixel accuracy, "miou": mean IoU over present labels, "iou": [K] float64 (NaN where a
    label is in neither ground truth nor prediction), "present": [K] bool, "pixels": int}."""
    confusion = torch.as_tensor(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be [K, K], got {list(confusion.shape)}")
    confusion = confusion.double()
    total = confusion.sum()
    if total == 0:
        raise ValueError("the confusion matrix is empty: no pixels were compared")
    hits = confusion.diagonal()
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - hits
    present = union > 0
    iou = torch.where(present, hits / union.clamp(min=1), torch.full_like(hits, float("nan")))
    return {
        "accuracy": float(hits.sum() / total),
        "miou": float(iou[present].mean()),
        "iou": iou,
        "present": present,
        "pixels": int(total),
    }


def parsing_scores(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray,
                   num_classes: int = NUM_LABELS) -> dict:
    """Pixel accuracy and mIoU of predicted against ground-truth label maps (see `scores_from_confusion`)."""
    return scores_from_confusion(confusion_matrix(pred, target, num_classes))


def flow_scores(flow: torch.Tensor, target_flow: torch.Tensor, target_visibility: torch.Tensor,
                visibility: torch.Tensor | None = None) -> dict:
    """End-point error and visibility accuracy of one batch.

    flow, target_flow: [B, 2, H, W] absolute appearance-image pixels; target_visibility: [B, H, W] in {0, 1, 2};
    visibility (optional): predicted labels [B, H, W] or class scores [B, 3, H, W] (argmax taken).

    Returns floats and the pixel counts behind them (for weighted averages over a dataset):
    {"epe": mean EPE (pixels) over the foreground, "foreground_pixels", "epe_visible": over visible pixels,
     "visible_pixels", and with `visibility`: "visibility_accuracy" over all pixels, "pixels"}.
    A mean over no pixel is NaN.
    """
    if flow.ndim != 4 or flow.shape[1] != 2 or target_flow.shape != flow.shape:
        raise ValueError(f"expected flow and target flow [B, 2, H, W], got {list(flow.shape)} and {list(target_flow.shape)}")
    b, _, h, w = flow.shape
    if tuple(target_visibility.shape) != (b, h, w):
        raise ValueError(f"expected target visibility [B, H, W] = {[b, h, w]}, got {list(target_visibility.shape)}")
    target_visibility = _labels("target_visibility", target_visibility, VISIBILITY_CLASSES)
    error = torch.linalg.vector_norm((flow - target_flow).double(), dim=1)  # NaN where the target is NaN
    foreground = target_visibility != BACKGROUND
    visible = target_visibility == VISIBLE

    def masked_mean(mask: torch.Tensor) -> tuple[float, int]:
        count = int(mask.sum())
        return (float(error[mask].sum() / count) if count else float("nan")), count

    epe, foreground_pixels = masked_mean(foreground)
    epe_visible, visible_pixels = masked_mean(visible)
    out = {"epe": epe, "foreground_pixels": foreground_pixels,
           "epe_visible": epe_visible, "visible_pixels": visible_pixels}
    if visibility is not None:
        if visibility.ndim == 4:
            if tuple(visibility.shape) != (b, VISIBILITY_CLASSES, h, w):
                raise ValueError(f"expected visibility scores [B, 3, H, W], got {list(visibility.shape)}")
            visibility = visibility.argmax(dim=1)
        if tuple(visibility.shape) != (b, h, w):
            raise ValueError(f"expected visibility labels [B, H, W] = {[b, h, w]}, got {list(visibility.shape)}")
        visibility = _labels("visibility", visibility, VISIBILITY_CLASSES)
        out["visibility_accuracy"] = float((visibility == target_visibility).double().mean())
        out["pixels"] = b * h * w
    return out
