"""Personalisation at transfer time: fine-tuning on the target photo lowers its reconstruction loss and
leaves the given stages untouched."""

import pytest
import torch

from cpfnet.transfer.models import load_trained_stages
from cpfnet.transfer.personalize import personalize
from cpfnet.transfer.target import Target


@pytest.mark.slow
def test_personalisation_lowers_the_reconstruction_loss_on_the_photo(synth_dataset):
    stages = load_trained_stages(None)  # the shipped weights
    video = sorted(p for p in synth_dataset.iterdir() if p.is_dir())[0]
    target = Target.from_folder(video)
    before = {k: v.clone() for k, v in stages.foreground.state_dict().items()}
    result = personalize(stages, target, steps=12, seed=0, progress=False)
    assert result.loss_after < 0.9 * result.loss_before
    # The fine-tuned copy replaced the generator in the returned stages; the given ones are untouched.
    assert result.stages.foreground is not stages.foreground
    assert all(torch.equal(before[k], v) for k, v in stages.foreground.state_dict().items())
    assert not any(p.requires_grad for p in result.stages.foreground.parameters())
