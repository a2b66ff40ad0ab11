"""cpfnet.openmp: this thread's OpenMP worker threads handed back, and made again by the next kernel."""

import os
import threading

import pytest
import torch

from cpfnet.openmp import _pause, release_threads


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(_pause() is None or not os.path.isdir("/proc/self/task") or torch.get_num_threads() < 2,
                    reason="needs torch's OpenMP runtime, Linux's /proc and 2 threads")
def test_release_threads_frees_this_threads_team_and_the_next_kernel_makes_it_again():
    def kernel():
        torch.relu(torch.randn(1 << 22)).sum()  # far above torch's grain size: an OpenMP parallel region

    done = {}

    def in_a_new_thread():  # a thread of its own: the suite's other threads' teams do not change its counts
        kernel()
        with_team = _threads()
        done["released"] = release_threads()
        done["freed"] = with_team - _threads()
        kernel()
        done["remade"] = _threads() - (with_team - done["freed"])
        release_threads()

    worker = threading.Thread(target=in_a_new_thread)
    worker.start()
    worker.join()
    assert done["released"]
    assert done["freed"] == torch.get_num_threads() - 1 == done["remade"], done
