"""Stage 2b losses: GAN terms (eq. 3), weighting, and the generator learning a shifted batch through the flow."""

from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from cpfnet.body.parsing_labels import NUM_LABELS
from cpfnet.nn.gan_loss import discriminator_loss, generator_adversarial_loss
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.ops.warp import identity_flow, warp
from cpfnet.stages.foreground import (ForegroundDiscriminator, ForegroundDiscriminatorConfig, ForegroundGenerator,
                                      ForegroundGeneratorConfig, ForegroundLossConfig, foreground_discriminator_loss,
                                      foreground_generator_loss)


def test_gan_losses_values():
    zeros = [torch.zeros(2, 1, 5, 5), torch.zeros(2, 1, 3, 3)]
    log2 = torch.log(torch.tensor(2.0))
    torch.testing.assert_close(generator_adversarial_loss(zeros), log2)
    d = discriminator_loss(zeros, zeros)
    torch.testing.assert_close(d["d_real"], log2 / 2)
    torch.testing.assert_close(d["d_fake"], log2 / 2)
    # lsgan: (0 - 1)^2 for real, (0 - 0)^2 for fake, halved.
    d = discriminator_loss(zeros, zeros, mode="lsgan")
    torch.testing.assert_close(d["d_real"], torch.tensor(0.5))
    torch.testing.assert_close(d["d_fake"], torch.tensor(0.0))
    confident = discriminator_loss([torch.full((1, 1, 4, 4), 30.0)], [torch.full((1, 1, 4, 4), -30.0)])
    assert confident["d_real"] < 1e-6 and confident["d_fake"] < 1e-6
    with pytest.raises(ValueError, match="lsgan"):
        generator_adversarial_loss(zeros, mode="wgan")


def test_generator_terms_are_weighted_and_zero_weights_are_left_out():
    fake, real = torch.rand(1, 3, 8, 8) * 2 - 1, torch.rand(1, 3, 8, 8) * 2 - 1
    logits = [torch.zeros(1, 1, 3, 3)]
    terms = foreground_generator_loss(fake, real, logits, None, ForegroundLossConfig(perceptual_weight=0.0))
    assert set(terms) == {"adversarial", "l1"}
    torch.testing.assert_close(terms["adversarial"], 0.01 * torch.log(torch.tensor(2.0)))
    torch.testing.assert_close(terms["l1"], (fake - real).abs().mean())
    terms = foreground_generator_loss(fake, real, None, None, ForegroundLossConfig(0.0, 2.0, 0.0))
    assert set(terms) == {"l1"}
    with pytest.raises(ValueError, match="PerceptualLoss"):
        foreground_generator_loss(fake, real, logits, None)
    d = foreground_discriminator_loss(logits, logits, ForegroundLossConfig(gan_mode="lsgan"))
    torch.testing.assert_close(d["d_real"], torch.tensor(0.5))


def _shifted_batch(size: int = 32):
    """Appearance foregrounds of coloured blocks, the flow of a per-sample shift, and what that shift gives:
    the target foreground, its parsing (one-hot) and its visibility (one-hot: visible on the body, background
    elsewhere)."""
    torch.manual_seed(0)
    labels = torch.zeros(2, size, size, dtype=torch.long)
    labels[0, 6:14, 10:20], labels[0, 14:26, 10:20], labels[0, 26:30, 12:18] = 13, 5, 9
    labels[1, 4:10, 12:18], labels[1, 10:28, 8:22] = 2, 6
    palette = torch.rand(NUM_LABELS, 3) * 2 - 1
    palette[0] = -1.0
    appearance = palette[labels].permute(0, 3, 1, 2)
    appearance = appearance + 0.3 * torch.sin(torch.arange(size) * 1.3).view(1, 1, 1, size) * (labels[:, None] > 0)
    shift = torch.tensor([[4.0, 2.0], [-3.0, 1.0]])
    flow = identity_flow(2, size, size) - shift.view(2, 2, 1, 1)
    target = warp(appearance + 1, flow) - 1  # outside the appearance image is background (-1)
    target_labels = warp(labels[:, None].float(), flow, mode="nearest")[:, 0].long()
    parsing = F.one_hot(target_labels, NUM_LABELS).permute(0, 3, 1, 2).float()
    visibility = F.one_hot(torch.where(target_labels > 0, 0, 2), 3).permute(0, 3, 1, 2).float()
    return appearance, parsing, flow, visibility, target


def test_generator_learns_fixed_batch_through_the_flow():
    appearance, parsing, flow, visibility, target = _shifted_batch()
    torch.manual_seed(0)
    gen = ForegroundGenerator(**asdict(ForegroundGeneratorConfig(channels=(8, 16, 32))))
    disc = ForegroundDiscriminator(**asdict(ForegroundDiscriminatorConfig(ndf=8, n_layers=2)))
    perceptual = PerceptualLoss()
    config = ForegroundLossConfig()
    g_opt = torch.optim.Adam(gen.parameters(), lr=5e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(disc.parameters(), lr=5e-4, betas=(0.5, 0.999))
    history = []
    for _ in range(30):
        fake = gen(parsing, flow, visibility, appearance=appearance)["foreground"]
        terms = foreground_generator_loss(fake, target, disc(appearance, parsing, fake)["logits"], perceptual, config)
        g_opt.zero_grad()
        sum(terms.values()).backward()
        g_opt.step()
        d_terms = foreground_discriminator_loss(disc(appearance, parsing, target)["logits"],
                                                disc(appearance, parsing, fake.detach())["logits"], config)
        d_opt.zero_grad()
        sum(d_terms.values()).backward()
        d_opt.step()
        history.append((terms["l1"] + terms["perceptual"]).item())
        assert set(terms) == {"adversarial", "l1", "perceptual"} and set(d_terms) == {"d_real", "d_fake"}
    assert history[-1] < 0.5 * history[0], history
