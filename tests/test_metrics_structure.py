"""Parsing accuracy / mIoU and flow EPE / visibility accuracy on hand-made cases."""

import math

import numpy as np
import pytest
import torch

from cpfnet.evaluation.structure_metrics import confusion_matrix, flow_scores, parsing_scores, scores_from_confusion

TARGET = torch.tensor([[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [2, 2, 2, 2]])
PRED = torch.tensor([[0, 1, 1, 1],
                     [0, 0, 1, 1],
                     [2, 2, 5, 2]])


def test_miou_and_accuracy_of_a_hand_made_case():
    scores = parsing_scores(PRED, TARGET)
    # IoU: label 0 3/4, label 1 4/5, label 2 3/4, label 5 (predicted, never true) 0/1; others absent.
    assert scores["accuracy"] == pytest.approx(10 / 12)
    assert scores["miou"] == pytest.approx((0.75 + 0.8 + 0.75 + 0.0) / 4)
    assert scores["present"].nonzero().flatten().tolist() == [0, 1, 2, 5]
    assert torch.isnan(scores["iou"][3]) and scores["iou"][1] == pytest.approx(0.8)
    assert scores["pixels"] == 12


def test_perfect_parsing_and_numpy_uint8_input():
    target = np.array([[0, 13, 13], [5, 5, 9]], dtype=np.uint8)
    scores = parsing_scores(target, target.copy())
    assert scores["accuracy"] == 1.0 and scores["miou"] == 1.0


def test_confusions_add_up_over_frames():
    whole = confusion_matrix(PRED, TARGET)
    parts = confusion_matrix(PRED[:1], TARGET[:1]) + confusion_matrix(PRED[1:], TARGET[1:])
    assert torch.equal(whole, parts)
    assert whole[0, 1] == 1 and whole[2, 5] == 1  # row = truth, column = prediction
    batched = confusion_matrix(torch.stack([PRED, PRED]), torch.stack([TARGET, TARGET]))
    assert scores_from_confusion(batched)["miou"] == pytest.approx(parsing_scores(PRED, TARGET)["miou"])


@pytest.mark.parametrize("pred, target, message", [
    (PRED[:2], TARGET, "differ in shape"),
    (PRED + 20, TARGET, "outside 0..19"),
    (PRED.float(), TARGET, "integer labels"),
])
def test_bad_label_maps_raise(pred, target, message):
    with pytest.raises(ValueError, match=message):
        parsing_scores(pred, target)


def test_empty_confusion_raises():
    with pytest.raises(ValueError, match="empty"):
        scores_from_confusion(torch.zeros(20, 20, dtype=torch.long))


def _flow_case():
    target_visibility = torch.tensor([[[0, 1, 2], [0, 2, 2]]])  # [1, 2, 3]
    target = torch.zeros(1, 2, 2, 3)
    flow = torch.zeros(1, 2, 2, 3)
    flow[0, :, 0, 0] = torch.tensor([3.0, 4.0])  # visible, error 5
    flow[0, :, 0, 1] = torch.tensor([6.0, 8.0])  # hidden, error 10
    flow[0, :, 1, 0] = torch.tensor([0.0, 1.0])  # visible, error 1
    flow[0, :, 0, 2] = 100.0  # background: ignored
    target[0, :, 1, 1] = float("nan")  # background target may be NaN
    return flow, target, target_visibility


def test_flow_epe_over_the_foreground_and_the_visible_pixels():
    flow, target, target_visibility = _flow_case()
    scores = flow_scores(flow, target, target_visibility)
    assert scores["epe"] == pytest.approx((5 + 10 + 1) / 3) and scores["foreground_pixels"] == 3
    assert scores["epe_visible"] == pytest.approx((5 + 1) / 2) and scores["visible_pixels"] == 2
    assert "visibility_accuracy" not in scores


def test_flow_epe_agrees_with_the_stage_loss_metric():
    from cpfnet.stages.flow.losses import flow_metrics

    flow, target, target_visibility = _flow_case()
    logits = torch.randn(1, 3, 2, 3, generator=torch.Generator().manual_seed(0))
    ours = flow_scores(flow, target, target_visibility, logits)
    stage = flow_metrics(flow, logits, target, target_visibility)
    assert ours["epe"] == pytest.approx(stage["epe_px"].item())
    assert ours["visibility_accuracy"] == pytest.approx(stage["visibility_accuracy"].item())


def test_visibility_accuracy_from_labels_or_scores():
    flow, target, target_visibility = _flow_case()
    labels = torch.tensor([[[0, 1, 2], [1, 2, 0]]])  # 4 of 6 right
    assert flow_scores(flow, target, target_visibility, labels)["visibility_accuracy"] == pytest.approx(4 / 6)
    scores = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float()
    out = flow_scores(flow, target, target_visibility, scores)
    assert out["visibility_accuracy"] == pytest.approx(4 / 6) and out["pixels"] == 6


def test_no_foreground_gives_nan_not_an_error():
    flow, target, _ = _flow_case()
    scores = flow_scores(flow, target, torch.full((1, 2, 3), 2))
    assert math.isnan(scores["epe"]) and scores["foreground_pixels"] == 0


def test_bad_flow_shapes_raise():
    flow, target, target_visibility = _flow_case()
    with pytest.raises(ValueError, match="flow"):
        flow_scores(flow[:, :1], target[:, :1], target_visibility)
    with pytest.raises(ValueError, match="target visibility"):
        flow_scores(flow, target, target_visibility[:, :1])
    with pytest.raises(ValueError, match="outside 0..2"):
        flow_scores(flow, target, target_visibility + 1)
