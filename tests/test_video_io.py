"""Streaming video I/O through real PyAV files: round trip, rotation, broken files, atomic writes."""

import av
import numpy as np
import pytest

from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, iter_frames, probe


def _frames(n, h=48, w=64):
    for i in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, (i * 4) % w:(i * 4) % w + 8] = (255, 128, 0)
        frame[: h // 4] = (0, 0, 255)  # a blue band on top tells up from down
        yield frame


def test_round_trip(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=12.5) as writer:
        for frame in _frames(10):
            writer.write(frame)
    info = probe(path)
    assert (info.width, info.height, info.num_frames, info.rotation) == (64, 48, 10, 0)
    assert info.fps == pytest.approx(12.5)
    decoded = list(iter_frames(path))
    assert len(decoded) == 10
    for got, want in zip(decoded, _frames(10)):
        assert np.abs(got.astype(int) - want).mean() < 6  # lossy H.264 at crf 18
    assert len(list(iter_frames(path, start=3, count=4))) == 4


@pytest.mark.parametrize("lookahead", [None, 4])
def test_encoder_look_ahead_is_short(tmp_path, lookahead):
    # x264 writes its settings into the stream (an SEI message): the look-ahead that bounds its memory.
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=10, **({} if lookahead is None else {"lookahead": lookahead})) as writer:
        for frame in _frames(12):
            writer.write(frame)
    assert f"rc_lookahead={lookahead or 10} ".encode() in path.read_bytes()


def test_odd_sizes_are_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, fps=10) as writer:
        for frame in _frames(3, 33, 45):
            writer.write(frame)
    assert (probe(path).width, probe(path).height) == (46, 34)


def test_rotation_flag_gives_upright_frames(tmp_path):
    path = tmp_path / "phone.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.set_display_rotation(-90)  # what phones write for portrait video: turn 90 degrees clockwise
    for frame in _frames(3):
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (48, 64, -90)
    upright = next(iter_frames(path))
    assert upright.shape == (64, 48, 3)
    # The blue band that was on top is on the right after a clockwise turn.
    assert upright[:, -4:, 2].mean() > 200 and upright[:, :4, 2].mean() < 60


def test_broken_inputs_give_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(UserError, match="not a readable video"):
        probe(text)
    good = tmp_path / "good.mp4"
    with VideoWriter(good, fps=10) as writer:
        for frame in _frames(30, 96, 128):
            writer.write(frame)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:600])
    with pytest.raises(UserError) as excinfo:
        list(iter_frames(cut))
    assert "\n" not in str(excinfo.value)


def test_failed_write_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "out.mp4"
    path.write_bytes(b"precious")
    with pytest.raises(RuntimeError):
        with VideoWriter(path, fps=10) as writer:
            writer.write(next(_frames(1)))
            raise RuntimeError("generation failed")
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_writer_checks_its_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        VideoWriter(tmp_path / "nope" / "out.mp4", fps=10)
