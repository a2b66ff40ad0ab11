"""The overlapped transfer (issue 11): `cpfnet.overlap.ahead` and `in_turn` on their own, and the
`cpfnet transfer` path side by side against in turn on a short real video, byte for byte."""

import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, iter_frames
from cpfnet.overlap import ahead, in_turn
from cpfnet.stages.fusion.network import FusionNet
from cpfnet.transfer.models import TrainedStages
from cpfnet.transfer.pipeline import TransferPipeline
from cpfnet.transfer.video import transfer_video
from test_chain import tiny_stages

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
DANCE, PERSON = REAL / "dance.mp4", REAL / "person.jpg"


SCHEDULES = {"ahead": lambda items: ahead(items, depth=3), "in_turn": in_turn}


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_the_items_come_in_order_from_one_other_thread(schedule):
    threads = []

    def items():
        for i in range(20):
            threads.append(threading.current_thread())
            yield i

    assert list(SCHEDULES[schedule](items())) == list(range(20))
    assert len(set(threads)) == 1 and threads[0] is not threading.main_thread()


def test_in_turn_makes_an_item_only_when_the_consumer_asks():
    made = []

    def items():
        for i in range(5):
            made.append(i)
            yield i

    for i in in_turn(items()):
        time.sleep(0.02)  # time enough for a worker running ahead to make the next one
        assert made == list(range(i + 1))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_a_worker_error_reaches_the_consumer_as_the_same_exception_after_the_items_before_it(schedule):
    error = UserError("source.mp4: the video breaks off after frame 2")

    def items():
        yield from (0, 1, 2)
        raise error

    got = []
    with pytest.raises(UserError) as caught:
        for item in SCHEDULES[schedule](items()):
            got.append(item)
    assert caught.value is error and got == [0, 1, 2]


def test_stopping_in_turn_closes_the_iterable_in_its_thread():
    closed_in = []

    def items():
        try:
            yield from range(1000)
        finally:
            closed_in.append(threading.current_thread())

    frames = in_turn(items(), name="cpfnet-test")
    assert [next(frames) for _ in range(3)] == [0, 1, 2]
    frames.close()
    assert len(closed_in) == 1 and closed_in[0].name.startswith("cpfnet-test")


def test_stopping_early_stops_the_worker_and_closes_the_iterable():
    made, closed = [], threading.Event()

    def items():
        try:
            for i in range(1000):
                made.append(i)
                yield i
        finally:
            closed.set()

    frames = ahead(items(), depth=2)
    assert [next(frames) for _ in range(3)] == [0, 1, 2]
    frames.close()
    assert closed.wait(2)
    time.sleep(0.1)
    assert len(made) <= 3 + 2 + 1  # what was taken, the queue's depth, the one in hand: no more
    with pytest.raises(ValueError):
        next(ahead([], depth=0))


@pytest.mark.slow
@pytest.mark.skipif(not DANCE.is_file() or not PERSON.is_file(), reason="no ../shared/real samples")
def _cut_source(folder: Path) -> Path:
    """The first 12 frames of the real dance at half size."""
    source = folder / "cut.mp4"
    with VideoWriter(source, fps=16) as writer:
        for frame in iter_frames(DANCE, count=12):
            writer.write(cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA))
    return source


def _random_stages() -> TrainedStages:
    """Random tiny stages at 32 px, with a fusion stage."""
    parsing, flow, foreground = tiny_stages(True, seed=5)
    fusion = FusionNet(ngf=8, n_downsample=2, n_blocks=1).eval().requires_grad_(False)
    return TrainedStages(parsing, flow, foreground, fusion, size=32, pose_sigma=1.0, runs=Path("random"))


def test_side_by_side_the_transfer_encodes_the_frames_made_in_turn(tmp_path, monkeypatch):
    """`cpfnet transfer`'s path in turn and side by side, and with --low-memory's heap, on 12 real frames onto
    the real photo (random tiny stages at 32 px, fused, the pixel path), hands the encoder the same frames,
    byte for byte. (The H.264 files themselves are compared decoded only loosely: x264 here is not
    bit-reproducible run to run.)"""
    torch.set_num_threads(1)
    source, stages = _cut_source(tmp_path), _random_stages()
    written: dict[tuple, list] = {}
    write = VideoWriter.write
    for overlap, low_memory in ((False, False), (True, False), (True, True)):
        written[overlap, low_memory] = []

        def keep(self, frame, into=written[overlap, low_memory]):
            into.append((threading.current_thread(), frame.copy()))
            write(self, frame)

        monkeypatch.setattr(VideoWriter, "write", keep)
        pipeline = TransferPipeline(stages, batch_size=5, overlap=overlap)  # batches of 5, 5, 2
        result = transfer_video(pipeline, source, PERSON, tmp_path / f"overlap_{overlap}.mp4", progress=False,
                                low_memory=low_memory)
        assert result.num_frames == 12 and pipeline.pixel_path
        assert {"pose", "parsing", "flow", "foreground", "fusion", "paste", "encode"} <= set(result.stage_seconds)
    taking_turns = [frame for _, frame in written[False, False]]
    assert any(np.any(a != taking_turns[0]) for a in taking_turns[1:])  # the frames move: a real comparison
    for key in ((True, False), (True, True)):
        assert len(written[key]) == 12
        for a, (_, b) in zip(taking_turns, written[key]):
            np.testing.assert_array_equal(a, b)
        assert all(thread is threading.main_thread() for thread, _ in written[key])  # encoding stays here
    assert len(list(iter_frames(tmp_path / "overlap_True.mp4"))) == 12


@pytest.mark.skipif(not DANCE.is_file() or not PERSON.is_file(), reason="no ../shared/real samples")
def test_frames_made_in_two_kept_buffers_are_the_new_arrays_frames(tmp_path):
    """`frame_buffers=2` (what `transfer_video` asks for) cycles through two frame buffers and gives the same
    frames as a new array per frame, for the pixel path and for `--no-pixel-path`'s paste."""
    torch.set_num_threads(1)
    from cpfnet import prepare
    from cpfnet.transfer.retarget import retarget_poses
    from cpfnet.transfer.target import prepare_target

    person = prepare_target(PERSON, 32)
    poses, _, _ = prepare.pose_sequence(_cut_source(tmp_path), progress=False)
    moved = retarget_poses(poses, person.pose_in_photo)
    for pixel_path in (True, False):
        pipeline = TransferPipeline(_random_stages(), batch_size=5, pixel_path=pixel_path)
        fresh = list(pipeline.frames(moved, person))
        kept, buffers = [], set()
        for frame in pipeline.frames(moved, person, frame_buffers=2):
            kept.append(frame.copy())
            buffers.add(frame.ctypes.data)
        assert len(buffers) == 2 and len(kept) == len(fresh) == 12
        for a, b in zip(fresh, kept):
            np.testing.assert_array_equal(a, b)
        assert any(np.any(a != fresh[0]) for a in fresh[1:])  # the person moves: a real comparison


@pytest.mark.skipif(not DANCE.is_file() or not PERSON.is_file(), reason="no ../shared/real samples")
def test_without_fusion_the_caller_runs_no_torch_kernel_and_gets_the_frames_made_in_turn(tmp_path):
    """Without a fusion stage the pipeline leaves all torch work to its worker (eq. 5's mask, the pixel path's
    bound, the crops as images), so the caller's OpenMP team, freed, is not made again (cpfnet.openmp: two
    teams slow each other); side by side the frames are those made in turn (the default on a CPU without
    fusion), with and without the pixel path."""
    from cpfnet import prepare
    from cpfnet.openmp import _pause, release_threads
    from cpfnet.transfer.retarget import retarget_poses
    from cpfnet.transfer.target import prepare_target

    person = prepare_target(PERSON, 32)
    poses, _, _ = prepare.pose_sequence(_cut_source(tmp_path), progress=False)
    moved = retarget_poses(poses, person.pose_in_photo)
    threads, stages = torch.get_num_threads(), _random_stages()
    torch.set_num_threads(2)  # a team with a worker thread, to see
    try:
        for pixel_path in (True, False):
            taking_turns = list(TransferPipeline(stages, batch_size=5, use_fusion=False, pixel_path=pixel_path,
                                               overlap=False).frames(moved, person))
            overlapped, remade = [], []
            for frame in TransferPipeline(stages, batch_size=5, use_fusion=False, pixel_path=pixel_path,
                                          overlap=True).frames(moved, person):
                overlapped.append(frame)
                before = len(os.listdir("/proc/self/task"))
                release_threads()  # frees a team only if this thread made one again
                remade.append(before - len(os.listdir("/proc/self/task")))
            assert len(overlapped) == len(taking_turns) == 12
            for a, b in zip(taking_turns, overlapped):
                np.testing.assert_array_equal(a, b)
            if _pause() is not None:
                assert remade == [0] * 12, remade
    finally:
        torch.set_num_threads(threads)


def test_on_a_cpu_the_networks_take_turns_with_the_paste_unless_this_thread_fuses():
    stages = _random_stages()
    assert not TransferPipeline(stages, use_fusion=False).overlap
    assert TransferPipeline(stages).overlap  # the fusion network runs here, beside the worker's
    assert TransferPipeline(stages, use_fusion=False, overlap=True).overlap
