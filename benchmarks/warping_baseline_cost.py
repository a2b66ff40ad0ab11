"""Parameters and FLOPs of the warping baselines (Soft-Gated Warping-GAN, Liquid Warping GAN) at the paper's
configuration (counting only).

    python benchmarks/warping_baseline_cost.py [--size 448]

One frame (batch 1) at SIZE x SIZE, counted on meta tensors: nothing is allocated or run. FLOPs as
benchmarks/network_cost.py counts them (torch.utils.flop_counter: 2 per multiply-add, convolutions and matmuls
only; grid_sample, norms and activations not included). "Per frame" is what transfer runs for every frame;
"per photo" what it runs once per target (I_a's encoders, LWG's background and source streams).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch

from baseline_cost import count  # a sibling script: benchmarks/ is on the path when run as a script
from cpfnet.baselines.lwg.network import LiquidWarpingDiscriminator, LiquidWarpingGenerator
from cpfnet.baselines.soft_gated.network import GeometricMatcher, SoftGatedDiscriminator, SoftGatedGenerator
from cpfnet.configs.experiment import load_config
from cpfnet.stages.flow.network import FlowRegressor
from cpfnet.stages.parsing.network import ParsingGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=448)
    args = parser.parse_args()
    s = args.size
    config = load_config("paper")
    sg, lwg = config.soft_gated, config.lwg

    def e(*shape):
        return torch.empty(*shape)

    rows = []
    with torch.device("meta"):
        parsing_net = ParsingGenerator(**asdict(sg.parser))
        matcher = GeometricMatcher(**asdict(sg.matcher)).to("meta")
        g = SoftGatedGenerator(**asdict(sg.generator))
        d = SoftGatedDiscriminator(**asdict(sg.discriminator))
        features = g.encode_appearance(e(1, 3, s, s))
        rows += [
            ("Soft-Gated parser (stage 1's network), per frame", *count(parsing_net, lambda: parsing_net(
                e(1, 20, s, s), e(1, 35, s, s)))),
            ("Soft-Gated geometric matcher (affine + TPS), per frame", *count(matcher, lambda: matcher(
                e(1, 20, s, s), e(1, 20, s, s)))),
            ("Soft-Gated generator, per frame (I_a encoded once)", *count(g, lambda: g(
                e(1, 35, s, s), e(1, 20, s, s), flow=e(1, 2, s, s), appearance_features=features))),
            ("Soft-Gated appearance encoder, per photo", *count(g.appearance_encoder, lambda: g.encode_appearance(
                e(1, 3, s, s)))),
            ("Soft-Gated discriminator (training)", *count(d, lambda: d(
                e(1, 35, s, s), e(1, 20, s, s), e(1, 3, s, s), e(1, 3, s, s)))),
        ]
        lg = LiquidWarpingGenerator(**asdict(lwg.generator))
        ld = LiquidWarpingDiscriminator(**asdict(lwg.discriminator))
        flow = FlowRegressor(**asdict(config.flow.network))
        c = lg.condition_channels
        source = lg.encode_source(e(1, 3 + c, s, s))
        rows += [
            ("LWG transfer stream G_TSF with the LWBs, per frame", *count(lg.transfer_stream, lambda: lg.transfer(
                e(1, 3 + c, s, s), source, e(1, 2, s, s)))),
            ("LWG its flow T: stage 2a FlowRegressor, per frame", *count(flow, lambda: flow(
                e(1, 35, s, s), e(1, 35, s, s)))),
            ("LWG source stream G_SID encoder, per photo", *count(lg.source_stream, lambda: lg.encode_source(
                e(1, 3 + c, s, s)))),
            ("LWG background stream G_BG, per photo", *count(lg.background_stream, lambda: lg.background(
                e(1, 4, s, s)))),
            ("LWG whole generator, one training sample", *count(lg, lambda: lg(
                e(1, 4, s, s), e(1, 3 + c, s, s), e(1, 3 + c, s, s), e(1, 2, s, s)))),
            ("LWG discriminator (training)", *count(ld, lambda: ld(e(1, c, s, s), e(1, 3, s, s)))),
        ]
    print(f"{s}x{s}, batch 1, paper configuration (counted on meta tensors)\n")
    print("| network | parameters | GFLOP |")
    print("| --- | ---: | ---: |")
    for name, params, gflop in rows:
        print(f"| {name} | {params:.2f} M | {gflop:.1f} |")


if __name__ == "__main__":
    main()
