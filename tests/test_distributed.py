"""Distributed training: the data shards, and `torchrun --nproc_per_node=2` (gloo) keeping both ranks' weights
identical through the foreground stage's alternating generator and discriminator steps, and both stopping at
the same step on a CPU budget."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from cpfnet.training.data import ResumableSampler
from cpfnet.training.distributed import Context


def test_ranks_take_disjoint_shards_that_make_up_the_single_process_batches():
    dataset = list(range(24))
    single = ResumableSampler(dataset, Context(), seed=3)
    ranks = [ResumableSampler(dataset, Context(rank=r, world_size=2), seed=3) for r in range(2)]
    for epoch in range(2):
        for sampler in (single, *ranks):
            sampler.set_position(epoch, 0)
        order = list(single)
        shards = [list(s) for s in ranks]
        assert not set(shards[0]) & set(shards[1])
        # Global batch 4 = 2 per rank: step s of the 2-process run sees the samples of step s of the single one.
        for step in range(6):
            together = shards[0][2 * step:2 * step + 2] + shards[1][2 * step:2 * step + 2]
            assert sorted(together) == sorted(order[4 * step:4 * step + 4])
    single.set_position(0, 0)
    first = list(single)
    single.set_position(1, 0)
    assert list(single) != first  # a new order each epoch
    single.set_position(0, 8)
    assert list(single) == first[8:] and len(single) == 16  # resuming mid-epoch skips what was consumed


_SCRIPT = textwrap.dedent("""
    import sys
    import torch.distributed as dist
    from safetensors.torch import save_file
    from cpfnet.configs.experiment import load_config
    from cpfnet.training.trainer import train

    data, runs, dump = sys.argv[1:4]
    # Two train() calls in one process: join the group here, so that train() keeps it instead of leaving and
    # joining again (a second rendezvous after leaving hangs).
    dist.init_process_group("gloo")
    config = load_config("tiny")
    config.foreground.generator.use_flow = False  # no prerequisite stage needed
    config.foreground.schedule.steps = 2
    result = train("foreground", config, data, runs, progress=False)
    rank = int(__import__("os").environ["RANK"])
    save_file({f"{n}.{k}": v.contiguous() for n, m in result.networks.items() for k, v in m.state_dict().items()},
              f"{dump}/rank{rank}.safetensors")
    # A 1 ms CPU budget, summed over the ranks, is spent by the first step: both ranks stop there together.
    config.parsing.schedule.steps = 3
    budget = train("parsing", config, data, runs, progress=False, cpu_budget=0.001)
    with open(f"{dump}/budget{rank}.txt", "w") as f:
        f.write(f"{budget.step} {budget.budget_reached} {budget.cpu_seconds!r}")
    # Free the DistributedDataParallel wrappers while the group lives, and leave it together.
    del result, budget
    __import__("gc").collect()
    dist.barrier()
    dist.destroy_process_group()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_hold_identical_weights(synth_dataset, tmp_path):
    script = tmp_path / "train_two.py"
    script.write_text(_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    env["PYTHONFAULTHANDLER"] = "1"  # a rank that aborts prints where it was
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", str(script), str(synth_dataset), str(tmp_path / "runs"), str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.terminate()  # torchrun passes SIGTERM on to its workers; run()'s SIGKILL would leave them hanging
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"torchrun did not finish in 240 s: {err[-3000:]}")
    assert proc.returncode == 0, err[-8000:]
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(2)]
    assert ranks[0].keys() == ranks[1].keys() and ranks[0]
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    # Rank 0 wrote the checkpoint, and it holds those weights; training moved them from the initial ones.
    checkpoint = tmp_path / "runs" / "foreground" / "step_000002"
    for net in ("generator", "discriminator"):
        saved = load_file(str(checkpoint / f"{net}.safetensors"))
        assert all(torch.equal(saved[k], ranks[0][f"{net}.{k}"]) for k in saved)
    from cpfnet.configs.experiment import load_config
    from cpfnet.stages.registry import stage

    torch.manual_seed(0)
    config = load_config("tiny")
    config.foreground.generator.use_flow = False
    initial = stage("foreground").task_class().build_networks(config)["generator"].state_dict()
    assert any(not torch.equal(v, ranks[0][f"generator.{k}"]) for k, v in initial.items())
    state = torch.load(checkpoint / "training_state.pt", weights_only=True)
    assert state["world_size"] == 2 and len(state["rng"]) == 2
    # The CPU budget is the sum over ranks, all-reduced: every rank stopped at the same step, with the same figure.
    budgets = [(tmp_path / f"budget{r}.txt").read_text().split() for r in range(2)]
    assert budgets[0] == budgets[1] and budgets[0][:2] == ["1", "True"], budgets
    assert (tmp_path / "runs" / "parsing" / "latest").read_text().strip() == "step_000001"


def test_worker_processes_do_not_change_the_batches():
    """data.num_workers may change on resume: the batches are the same with and without workers."""
    from cpfnet.training.data import make_loader

    dataset = [torch.tensor([i]) for i in range(10)]
    orders = []
    for workers in (0, 2):
        loader, sampler, local, steps = make_loader(dataset, Context(), 4, 7, workers, "parsing")
        sampler.set_position(1, 4)
        orders.append([b.flatten().tolist() for b in loader])
        assert (local, steps) == (4, 2)
    assert orders[0] == orders[1] and len(orders[0]) == 1
