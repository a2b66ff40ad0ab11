"""End-point error and visibility accuracy of a trained flow stage on held-out synthetic pairs, against
the zero-flow baseline (every pixel samples itself; visibility: background everywhere, the majority class)
and the non-learned geometric part-wise flow of the two skeletons (cpfnet.body.limb_flow).

    python benchmarks/flow_heldout.py RUNS HELDOUT_DATA [--batch-size 16]

HELDOUT_DATA: `cpfnet synth` videos made with another seed than the training data.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import DataLoader

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.dataset.readers import FlowPairs
from cpfnet.evaluation.structure_metrics import flow_scores
from cpfnet.ops.warp import identity_flow
from cpfnet.stages.flow.prior import geometric_prior, run_flow
from cpfnet.stages.weights import load_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs")
    parser.add_argument("data")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    networks, config = load_stage(args.runs, "flow", "cpu")
    size, sigma = config.data.size, config.data.pose_sigma
    pairs = FlowPairs(args.data, size=size)
    totals = {"model": [0.0, 0, 0.0, 0], "geometric flow": [0.0, 0, 0.0, 0], "zero flow": [0.0, 0, 0.0, 0]}
    with torch.inference_mode():
        for batch in DataLoader(pairs, batch_size=args.batch_size):
            maps = [render_pose_maps(batch[k], size, size, sigma) for k in ("appearance_pose", "pose")]
            out = run_flow(networks["flow"], *maps, batch["appearance_pose"], batch["pose"])
            geometric = geometric_prior(batch["appearance_pose"], batch["pose"], size)
            zero = identity_flow(len(maps[0]), size, size)
            background = torch.full_like(batch["visibility"], 2)
            for name, flow, vis in (("model", out["flow"], out["visibility"]),
                                    ("geometric flow", geometric["flow"], geometric["visibility"].argmax(1)),
                                    ("zero flow", zero, background)):
                s = flow_scores(flow, batch["flow"], batch["visibility"], vis)
                t = totals[name]
                t[0] += s["epe"] * s["foreground_pixels"]
                t[1] += s["foreground_pixels"]
                t[2] += s["visibility_accuracy"] * s["pixels"]
                t[3] += s["pixels"]
    print(f"{len(pairs)} held-out pairs at {size}x{size} from {args.data}")
    print("| flow | EPE (px, person pixels) | visibility accuracy |\n|---|---|---|")
    for name, (e, n, a, m) in totals.items():
        print(f"| {name} | {e / n:.2f} | {100 * a / m:.1f}% |")


if __name__ == "__main__":
    main()
