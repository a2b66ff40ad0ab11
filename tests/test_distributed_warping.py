"""`torchrun --nproc_per_node=2` (gloo) trains the warping baselines with both ranks' weights identical:
Soft-Gated Warping-GAN (four networks, two optimizers) and Liquid Warping GAN (exact flow), one launch each
(a process's second `train` would set up its process group again)."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

STAGES = ("baseline-soft-gated", "baseline-lwg")

_SCRIPT = textwrap.dedent("""
    import os
    import sys
    from safetensors.torch import save_file
    from cpfnet.configs.experiment import load_config
    from cpfnet.training.trainer import train

    data, runs, dump, stage = sys.argv[1:5]
    rank = int(os.environ["RANK"])
    config = load_config("tiny")
    config.stage(stage).schedule.steps = 2
    result = train(stage, config, data, runs, progress=False)
    save_file({f"{n}.{k}": v.contiguous() for n, m in result.networks.items() for k, v in m.state_dict().items()},
              f"{dump}/{stage}.rank{rank}.safetensors")
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_torchrun_two_processes_hold_identical_weights(stage, synth_dataset, tmp_path):
    script = tmp_path / "train_two.py"
    script.write_text(_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", str(script), str(synth_dataset), str(tmp_path / "runs"), str(tmp_path),
         stage], capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [load_file(str(tmp_path / f"{stage}.rank{r}.safetensors")) for r in range(2)]
    assert ranks[0].keys() == ranks[1].keys() and ranks[0]
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    checkpoint = tmp_path / "runs" / stage / "step_000002"
    state = torch.load(checkpoint / "training_state.pt", weights_only=True)
    assert state["world_size"] == 2 and len(state["rng"]) == 2
    saved = load_file(str(checkpoint / "generator.safetensors"))
    assert all(torch.equal(saved[k], ranks[0][f"generator.{k}"]) for k in saved)
