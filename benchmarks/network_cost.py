"""Parameters, FLOPs per frame and forward time of every CPF-Net network at the paper's configuration.

    python benchmarks/network_cost.py [--size 448] [--repeat 3] [--threads N] [--channels-last]

One frame (batch 1) at SIZE x SIZE, torch.inference_mode, float32, on the CPU. FLOPs are counted by
torch.utils.flop_counter (2 per multiply-add; convolutions and matmuls only, so norms, activations and
grid_sample are not included). The foreground generator is also timed with its appearance features
precomputed, as the transfer pipeline runs it (the appearance encoder runs once per target photo).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.stages.flow import FlowRegressor, FlowRegressorConfig
from cpfnet.stages.foreground import (ForegroundDiscriminator, ForegroundDiscriminatorConfig, ForegroundGenerator,
                                      ForegroundGeneratorConfig)
from cpfnet.stages.fusion import FusionNet, FusionNetConfig
from cpfnet.stages.parsing import ParsingGenerator, ParsingGeneratorConfig


def measure(run, repeat: int) -> tuple[float, float]:
    """(GFLOP, best seconds) of one call of `run`."""
    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            run()
        run()  # warm-up
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
    return counter.get_total_flops() / 1e9, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last networks and inputs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    s = args.size

    fmt = torch.channels_last if args.channels_last else torch.contiguous_format

    def rand(c: int) -> torch.Tensor:
        return torch.rand(1, c, s, s).contiguous(memory_format=fmt)

    parsing = ParsingGenerator(**asdict(ParsingGeneratorConfig())).eval()
    flow = FlowRegressor(**asdict(FlowRegressorConfig())).eval()
    fg = ForegroundGenerator(**asdict(ForegroundGeneratorConfig())).eval()
    disc = ForegroundDiscriminator(**asdict(ForegroundDiscriminatorConfig())).eval()
    fusion = FusionNet(**asdict(FusionNetConfig())).eval()
    perceptual = PerceptualLoss()
    for net in (parsing, flow, fg, disc, fusion):
        net.to(memory_format=fmt)

    par, pose, app_pose, image = rand(20).softmax(1), rand(35), rand(35), (rand(3) * 2 - 1)
    with torch.inference_mode():
        flow_out = flow(app_pose, pose)
        app_features = fg.encode_appearance(image)
    rows = [
        ("stage 1 ParsingGenerator", parsing, lambda: parsing(par, pose)),
        ("stage 2a FlowRegressor", flow, lambda: flow(app_pose, pose)),
        ("stage 2b ForegroundGenerator (whole)", fg,
         lambda: fg(par, flow_out["flow"], flow_out["visibility"], appearance=image)),
        ("stage 2b  per frame, appearance precomputed", None,
         lambda: fg(par, flow_out["flow"], flow_out["visibility"], appearance_features=app_features)),
        ("stage 2b  appearance encoder (once per photo)", fg.appearance_encoder, lambda: fg.encode_appearance(image)),
        ("stage 2b ForegroundDiscriminator (training)", disc, lambda: disc(image, par, image)),
        ("stage 3 FusionNet", fusion, lambda: fusion(image, image, image)),
        ("perceptual loss, HED VGG16 (training, 2 images)", perceptual, lambda: perceptual(image, image)),
    ]
    layout = "channels-last" if args.channels_last else "contiguous (NCHW)"
    print(f"{s}x{s}, batch 1, {torch.get_num_threads()} threads, {layout}, torch {torch.__version__}\n")
    print("| network | parameters | GFLOP / frame | forward ms | GFLOP/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, module, run in rows:
        params = ""
        if module is perceptual:  # frozen weights are buffers
            params = f"{sum(b.numel() for b in module.buffers()) / 1e6:.2f} M, frozen"
        elif module is not None:
            params = f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f} M"
        gflop, seconds = measure(run, args.repeat)
        print(f"| {name} | {params} | {gflop:.1f} | {seconds * 1e3:.0f} | {gflop / seconds:.0f} |")


if __name__ == "__main__":
    main()
