"""few-shot vid2vid (Wang et al., NeurIPS 2019) as the paper adapts it (IV-A2): the appearance image I_a is
the only example image (K = 1), its pose the example's semantic map.

    x^t = m_p * x_r + (1 - m_p) * warp(x^{t-1}, w_p)        the previous frame, as vid2vid (L = 1 by default)
    x_r = m_e * h^t + (1 - m_e) * warp(I_a, w_e)            the warped example ("warp_ref")
    h^t = H(s_pose^t; theta_H = E(I_a, s_pose(I_a), s_pose^t))

- H, the image synthesis network, is a SPADE generator (Park et al. 2019): from the example's encoded
  bottleneck, SPADE residual blocks and 2x upsamplings, each block's normalisations modulated by
  gamma, beta = 1x1 convs of a label embedding of s_pose^t (an encoder-decoder giving one feature map per
  level), then conv and tanh.
- E, the network weight generation module (few-shot vid2vid Sec. 3.2), makes the weights theta_H of those
  modulation convs in the `n_adaptive_layers` finest blocks from the example. E_F, the example feature
  extractor, encodes the example image and its pose map in two branches (stride-2 convs to the bottleneck,
  then one conv per level narrowing to that level's width); each level's image features are pooled over the
  pose branch's softmax regions: q_l [B, C_l, C_l], row c = the appearance seen through pose region c'.
  E_P, one multi-layer perceptron per generated normalisation, maps each row of q to the gamma and beta
  weights and bias of one output channel (scaled by 1/sqrt(fan-in), as a conv's initialisation).
- E_A, the attention module over examples: keys from the examples' pose maps, the query from s_pose^t (conv
  and `attention_downsample` stride-2 convs each); the softmax over all example positions of key . query
  recombines E_F's features at that depth, so the weights come from the example parts that match the
  current pose. few-shot vid2vid uses it only for K > 1; here `attention: true` also applies it to the one
  example, where it moves the example's features to where the current pose needs them.
- W, the flow network (few-shot vid2vid's and vid2vid's flow generator): (s_pose^t, the other frame's pose,
  the other frame) -> offsets and a soft mask; one network serves the example and, for L = 1, the previous
  frame (its input has the same shape then), as the released model does.

This module holds the generator (with E_F) and its config; its parts live in `spade` (H's SPADE blocks and
label embedding), `weight_generation` (E_A and E_P) and `flow` (W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from cpfnet.baselines.fewshot_vid2vid.flow import FlowGenerator
from cpfnet.baselines.fewshot_vid2vid.spade import LabelEmbedding, SPADEResBlock, lrelu
from cpfnet.baselines.fewshot_vid2vid.weight_generation import ExampleAttention, WeightGenerator
from cpfnet.baselines.vid2vid.network import warp_by_offset
from cpfnet.body.pose_maps import POSE_CHANNELS
from cpfnet.nn.blocks import ConvBlock
from cpfnet.ops.batch import broadcast_batch as broadcast


@dataclass
class FewShotVid2VidGeneratorConfig:
    """Mirrors FewShotVid2VidGenerator; the defaults are the released pose model's (ngf 32, 5 downsamplings,
    widths capped at 1024, 4 adaptive layers, 2 fc layers, attention after 2 downsamplings, n_frames_G 2:
    L = 1, flow network nff 32 with 3 downsamplings and 6 blocks, offsets x 20, example warping on)."""

    pose_channels: int = POSE_CHANNELS
    previous_frames: int = 1
    ngf: int = 32
    n_downsample: int = 5
    n_adaptive_layers: int = 4
    n_fc_layers: int = 2
    attention: bool = True
    attention_downsample: int = 2
    warp_reference: bool = True
    flow_ngf: int = 32
    flow_downsample: int = 3
    flow_blocks: int = 6
    flow_multiplier: float = 20.0
    norm: str = "instance"


class FewShotVid2VidGenerator(nn.Module):
    """One step of the few-shot vid2vid generator.

    (pose_maps [B, P, H, W] frame t, previous_pose_maps [B, L, P, H, W] and previous [B, L, 3, H, W] the
    generated frames t-L..t-1 oldest first, appearance: the example(s) [B or 1, 3, H, W] or [B or 1, K, 3, H, W],
    appearance_pose_maps: their pose maps [B or 1, (K,) P, H, W]) -> {"frame" x^t, "hallucinated" h^t,
    "reference_warped", "warped" (the previous frame warped): [B, 3, H, W] in [-1, 1]; "reference_flow",
    "flow" [B, 2, H, W] pixel offsets; "reference_mask", "mask" [B, 1, H, W], 1 = the synthesised image}.
    H and W must be multiples of 2**n_downsample (and of 2**flow_downsample).
    """

    uses_appearance_pose = True

    def __init__(self, pose_channels: int = POSE_CHANNELS, previous_frames: int = 1, ngf: int = 32,
                 n_downsample: int = 5, n_adaptive_layers: int = 4, n_fc_layers: int = 2, attention: bool = True,
                 attention_downsample: int = 2, warp_reference: bool = True, flow_ngf: int = 32,
                 flow_downsample: int = 3, flow_blocks: int = 6, flow_multiplier: float = 20.0,
                 norm: str = "instance"):
        super().__init__()
        if previous_frames < 1:
            raise ValueError(f"few-shot vid2vid needs at least 1 previous frame, got {previous_frames}")
        if not 0 <= n_adaptive_layers <= n_downsample + 1:
            raise ValueError(f"n_adaptive_layers must be 0..{n_downsample + 1}, got {n_adaptive_layers}")
        if attention and not 1 <= attention_downsample <= n_downsample:
            raise ValueError(f"attention_downsample must be 1..{n_downsample}, got {attention_downsample}")
        self.pose_channels = pose_channels
        self.previous_frames = previous_frames
        self.n_downsample = n_downsample
        self.n_adaptive_layers = n_adaptive_layers
        self.attention_downsample = attention_downsample
        self.warp_reference = warp_reference
        self.factor = 2 ** max(n_downsample, flow_downsample)
        top = min(1024, ngf * 2 ** n_downsample)
        ch = [min(top, ngf * 2 ** i) for i in range(n_downsample + 2)]
        self.ch = ch

        # E_F: two branches to the bottleneck, then one narrowing conv per level (at the bottleneck's size).
        self.image_first = ConvBlock(3, ch[0], 3, norm=norm, act="lrelu")
        self.pose_first = ConvBlock(pose_channels, ch[0], 3, norm=norm, act="lrelu")
        self.image_down = nn.ModuleList(ConvBlock(ch[i], ch[i + 1], 3, stride=2, norm=norm, act="lrelu",
                                                  padding_mode="zeros") for i in range(n_downsample))
        self.pose_down = nn.ModuleList(ConvBlock(ch[i], ch[i + 1], 3, stride=2, norm=norm, act="lrelu",
                                                 padding_mode="zeros") for i in range(n_downsample))
        self.image_levels = nn.ModuleList(ConvBlock(ch[i + 1], ch[i], 3, norm=norm, act="lrelu")
                                          for i in range(n_downsample))
        self.pose_levels = nn.ModuleList(ConvBlock(ch[i + 1], ch[i], 3, norm=norm, act="lrelu")
                                         for i in range(n_downsample))
        # E_A
        self.attention = ExampleAttention(pose_channels, ch, attention_downsample, norm) if attention else None
        # E_P: block i (ch[i+1] -> ch[i]) has norm_0 and norm_s on ch[i+1] channels (rows of q_{i+1}) and
        # norm_1 on ch[i] (rows of q_i); the embedding at level i has ch[i] channels.
        self.weight_generators = nn.ModuleList()
        for i in range(n_adaptive_layers):
            gens = {"0": WeightGenerator(ch[i + 1], ch[i], n_fc_layers), "1": WeightGenerator(ch[i], ch[i], n_fc_layers)}
            if ch[i + 1] != ch[i]:
                gens["s"] = WeightGenerator(ch[i + 1], ch[i], n_fc_layers)
            self.weight_generators.append(nn.ModuleDict(gens))
        # H
        self.label_embedding = LabelEmbedding(pose_channels, ch, n_downsample)
        self.blocks = nn.ModuleList(SPADEResBlock(ch[i + 1], ch[i], ch[i], i < n_adaptive_layers, norm)
                                    for i in range(n_downsample + 1))
        self.image_head = nn.Conv2d(ch[0], 3, 3, padding=1)
        # W
        flow_in = pose_channels * (previous_frames + 1) + 3 * previous_frames
        self.previous_flow = FlowGenerator(flow_in, flow_ngf, flow_downsample, flow_blocks, norm, flow_multiplier)
        self.reference_flow = None
        if warp_reference and previous_frames != 1:  # for L = 1 the previous frame's network serves the example
            self.reference_flow = FlowGenerator(2 * pose_channels + 3, flow_ngf, flow_downsample, flow_blocks, norm,
                                                flow_multiplier)

    def _reference_flow(self) -> FlowGenerator:
        return self.reference_flow if self.reference_flow is not None else self.previous_flow

    def encode_example(self, examples: torch.Tensor, example_pose_maps: torch.Tensor,
                       pose_maps: torch.Tensor) -> dict:
        """E_F (with E_A) and E_P: examples [B, K, 3, H, W], example_pose_maps [B, K, P, H, W], the current
        pose maps [B, P, H, W] -> {"bottleneck" [B, ch[n], h, w] (H's input), "weights" per adaptive block,
        "attention" [B, K*h_a*w_a, h_a*w_a] or None, "index" [B] the example to warp}."""
        b, k = examples.shape[:2]
        x = self.image_first(examples.flatten(0, 1))
        y = self.pose_first(example_pose_maps.flatten(0, 1))
        attention = None
        for i in range(self.n_downsample):
            x, y = self.image_down[i](x), self.pose_down[i](y)
            if self.attention is not None and i == self.attention_downsample - 1:
                attention = self.attention.weights(pose_maps, example_pose_maps.flatten(0, 1), k)
                x, y = self.attention.attend(x, attention), self.attention.attend(y, attention)
        if attention is None and k > 1:  # without attention the examples' features are averaged
            x = x.unflatten(0, (b, k)).mean(1)
            y = y.unflatten(0, (b, k)).mean(1)
        bottleneck = x
        images, poses = [x], [y]
        for i in reversed(range(self.n_downsample)):
            images.append(self.image_levels[i](images[-1]))
            poses.append(self.pose_levels[i](poses[-1]))
        images, poses = images[::-1], poses[::-1]  # level l: ch[l] channels
        q = []
        for f, g in zip(images, poses):  # q_l[b, c, c'] = mean over positions of f_c * softmax_c'(g)
            q.append(torch.einsum("bcp,bdp->bcd", f.flatten(2), g.flatten(2).softmax(dim=1)) / f[0, 0].numel())
        # Block i's input side (norm_0, norm_s: ch[i+1] channels) takes q_{i+1}; the bottleneck block n has no
        # level n+1: its input is the bottleneck itself (ch[n+1] == ch[n]), so q_n (the released model clamps
        # the same way).
        n = self.n_downsample
        weights = [{name: gen(q[min(i + 1, n)] if name in ("0", "s") else q[i]) for name, gen in gens.items()}
                   for i, gens in enumerate(self.weight_generators)]
        index = torch.zeros(b, dtype=torch.long, device=examples.device)
        if attention is not None and k > 1:  # warp the example the attention draws on most
            index = attention.reshape(b, k, -1).sum(2).argmax(1)
        return {"bottleneck": bottleneck, "weights": weights, "attention": attention, "index": index}

    def forward(self, pose_maps: torch.Tensor, previous_pose_maps: torch.Tensor, previous: torch.Tensor,
                appearance: torch.Tensor, appearance_pose_maps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        b, c, h, w = pose_maps.shape
        if c != self.pose_channels:
            raise ValueError(f"expected {self.pose_channels} pose channels, got {c}")
        if h % self.factor or w % self.factor:
            raise ValueError(f"input size {h}x{w} must be a multiple of {self.factor}")
        L = self.previous_frames
        if previous is None or previous.shape[1:] != (L, 3, h, w):
            raise ValueError(f"previous must be [B, {L}, 3, {h}, {w}], got {None if previous is None else tuple(previous.shape)}")
        if previous_pose_maps is None or previous_pose_maps.shape[1:] != (L, c, h, w):
            raise ValueError(f"previous_pose_maps must be [B, {L}, {c}, {h}, {w}]")
        if appearance_pose_maps is None:
            raise ValueError("few-shot vid2vid needs the example's pose maps (appearance_pose_maps)")
        examples = appearance if appearance.ndim == 5 else appearance[:, None]
        example_poses = appearance_pose_maps if appearance_pose_maps.ndim == 5 else appearance_pose_maps[:, None]
        if examples.shape[2:] != (3, h, w) or example_poses.shape[:2] != examples.shape[:2] or \
                example_poses.shape[2:] != (c, h, w):
            raise ValueError(f"appearance [B, (K,) 3, {h}, {w}] and appearance_pose_maps [B, (K,) {c}, {h}, {w}] "
                             f"must agree, got {tuple(appearance.shape)} and {tuple(appearance_pose_maps.shape)}")
        examples, example_poses = broadcast(examples, b, "appearance"), broadcast(example_poses, b, "appearance_pose_maps")
        previous, previous_pose_maps = broadcast(previous, b, "previous"), broadcast(previous_pose_maps, b, "previous_pose_maps")

        encoded = self.encode_example(examples, example_poses, pose_maps)
        embedding = self.label_embedding(pose_maps)
        x = encoded["bottleneck"]
        for i in reversed(range(self.n_downsample + 1)):
            x = self.blocks[i](x, embedding[i], encoded["weights"][i] if i < self.n_adaptive_layers else None)
            if i:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
        hallucinated = torch.tanh(self.image_head(lrelu(x)))
        out = {"hallucinated": hallucinated}
        frame = hallucinated
        if self.warp_reference:
            pick = encoded["index"].view(b, 1, 1, 1, 1)
            example = examples.gather(1, pick.expand(b, 1, *examples.shape[2:]))[:, 0]
            example_pose = example_poses.gather(1, pick.expand(b, 1, *example_poses.shape[2:]))[:, 0]
            flow, mask = self._reference_flow()(torch.cat([pose_maps, example_pose, example], dim=1))
            warped = warp_by_offset(example, flow)
            frame = mask * frame + (1 - mask) * warped
            out.update(reference_flow=flow, reference_mask=mask, reference_warped=warped)
        flow, mask = self.previous_flow(torch.cat([pose_maps, previous_pose_maps.flatten(1, 2), previous.flatten(1, 2)], dim=1))
        warped = warp_by_offset(previous[:, -1], flow)
        frame = mask * frame + (1 - mask) * warped
        out.update(frame=frame, flow=flow, mask=mask, warped=warped)
        return out
