"""Parameters and FLOPs per frame of the sequential baselines at the paper's configuration (counting only).

    python benchmarks/baseline_cost.py [--size 448]

One frame (batch 1) at SIZE x SIZE, counted on meta tensors: nothing is allocated or run, so it takes seconds
at any size. FLOPs as benchmarks/network_cost.py counts them (torch.utils.flop_counter: 2 per multiply-add,
convolutions and matmuls only; grid_sample, norms and activations not included). For the sequential
generators "per frame" is one step: frame t from the previous L frames. The video discriminator's row is one
training clip (every window of every temporal scale), since it judges clips, not frames.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from torch.utils.flop_counter import FlopCounterMode

from cpfnet.baselines.fewshot_vid2vid.config import FewShotVid2VidStageConfig
from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator
from cpfnet.baselines.pix2pixhd import Pix2PixHDDiscriminator
from cpfnet.baselines.vid2vid.config import Vid2VidStageConfig
from cpfnet.baselines.vid2vid.network import TemporalDiscriminator, Vid2VidGenerator


def count(module: torch.nn.Module, run) -> tuple[float, float]:
    """(parameters in millions, GFLOP) of one call of `run`."""
    with FlopCounterMode(display=False) as counter:
        run()
    return sum(p.numel() for p in module.parameters()) / 1e6, counter.get_total_flops() / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=448)
    args = parser.parse_args()
    s = args.size

    def e(*shape):
        return torch.empty(*shape)

    rows = []
    with torch.device("meta"):
        for label, section, cls in (("vid2vid", Vid2VidStageConfig(), Vid2VidGenerator),
                                    ("few-shot vid2vid", FewShotVid2VidStageConfig(), FewShotVid2VidGenerator)):
            g = cls(**asdict(section.generator))
            L = g.previous_frames
            rows.append((f"{label} generator, per frame (L = {L})", *count(
                g, lambda: g(e(1, 35, s, s), e(1, L, 35, s, s), e(1, L, 3, s, s), e(1, 3, s, s), e(1, 35, s, s)))))
            d = Pix2PixHDDiscriminator(**asdict(section.discriminator))
            rows.append((f"{label} image discriminator D_I (training)", *count(
                d, lambda: d(e(1, 35, s, s), e(1, 3, s, s), e(1, 3, s, s)))))
            k = section.clip_length
            t = TemporalDiscriminator(**asdict(section.temporal_discriminator))
            rows.append((f"{label} video discriminator D_V, one {k}-frame clip (training)", *count(
                t, lambda: t(e(1, k, 35, s, s), e(1, k, 3, s, s)))))
    print(f"{s}x{s}, batch 1, paper configuration (counted on meta tensors)\n")
    print("| network | parameters | GFLOP / frame |")
    print("| --- | ---: | ---: |")
    for name, params, gflop in rows:
        print(f"| {name} | {params:.2f} M | {gflop:.1f} |")


if __name__ == "__main__":
    main()
