"""Transfer: the pipeline against the stage networks called by hand, on tiny trained stages, and
`cpfnet transfer` on real files."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from cpfnet.body.pose_maps import render_pose_maps
from cpfnet.cli import main
from cpfnet.dataset.layout import VideoFolder
from cpfnet.dataset.readers import image_to_tensor, tensor_to_image
from cpfnet.errors import UserError
from cpfnet.io.video import VideoWriter, probe
from cpfnet.ops.crop import box_coverage, crop_box, paste_back
from cpfnet.ops.foreground import extract_foreground, one_hot_parsing
from cpfnet.ops.warp import identity_flow, warp
from cpfnet.stages.fusion.network import FusionNet, compose
from cpfnet.transfer.models import TrainedStages
from cpfnet.transfer.pipeline import TransferPipeline, auto_batch_size
from cpfnet.transfer.target import Target
from test_chain import tiny_stages

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
STEPS = {"parsing": 2, "flow": 2, "foreground": 1, "fusion": 1}


@pytest.fixture(scope="module")
def runs(shapes_dataset, tmp_path_factory):
    runs = tmp_path_factory.mktemp("transfer-runs")
    for stage, steps in STEPS.items():
        assert main(["train", stage, "--config", "tiny", "--data", str(shapes_dataset), "--runs", str(runs),
                     "--steps", str(steps), "--no-progress"]) == 0
    return runs


STAGE_SIZE, SIGMA = 32, 2.5  # an unusual sigma: a pipeline that ignores the stages' one is caught
UNIT_POSE = np.array([(.5, .15), (.5, .25), (.4, .26), (.37, .4), (.36, .52), (.6, .26), (.63, .4), (.64, .52),
                      (.44, .52), (.44, .7), (.44, .88), (.56, .52), (.56, .7), (.56, .88), (.48, .13), (.52, .13),
                      (.46, .14), (.54, .14)])


def _random_stages(use_flow: bool = True, mask_prior: bool = False) -> TrainedStages:
    parsing, flow, foreground = tiny_stages(use_flow, seed=5)
    torch.manual_seed(6)
    fusion = FusionNet(ngf=8, n_downsample=2, n_blocks=1, mask_prior=mask_prior).eval().requires_grad_(False)
    if mask_prior:  # away from its zero start, so that the test sees what the network is given
        for p in fusion.generator.net[-1].parameters():
            p.normal_(0, 0.1)
    return TrainedStages(parsing, flow, foreground, fusion, size=STAGE_SIZE, pose_sigma=SIGMA, runs=Path("random"))


def _random_case(frames: int = 5):
    """A target in a 70 x 90 photo (its 40 px box cut to 32 px crops) and a dance whose neck moves."""
    rng = np.random.default_rng(7)
    pose = np.concatenate([UNIT_POSE * STAGE_SIZE, np.ones((18, 1))], axis=1).astype(np.float32)
    parsing = np.zeros((STAGE_SIZE, STAGE_SIZE), np.uint8)
    parsing[4:30, 10:22] = rng.integers(1, 20, (26, 12))
    target = Target(rng.integers(0, 256, (STAGE_SIZE, STAGE_SIZE, 3), dtype=np.uint8), parsing, pose,
                    (24.0, 12.0, 64.0, 52.0), rng.integers(0, 256, (70, 90, 3), dtype=np.uint8))
    poses = np.repeat(target.pose_in_photo[None], frames, axis=0)
    shift = np.stack([np.arange(frames) * 2.5, -np.arange(frames) * 1.25], axis=1)  # the body travels
    poses[:, :, :2] += shift[:, None]
    poses[:, 4, 1] -= 6 * np.sin(np.arange(frames))  # and waves
    return target, poses, shift


def _by_hand(stages: TrainedStages, target: Target, poses: np.ndarray, shift: np.ndarray, size: int,
             use_fusion: bool = True) -> list[dict]:
    """What the pipeline should make, from the stage networks and the documented inputs: crop boxes = the
    target's box moved by the neck's travel, on whole pixels (its corner rounded); poses in crop pixels; pose maps with the stages' sigma scaled to
    `size`; eq. 5 pasted into the photo's background. The first previous frame is the plain overlay, later
    ones the last output shifted with the box, the background where the old box does not reach."""
    sigma = stages.pose_sigma * size / stages.size
    small = target.resized(size)
    ids = torch.from_numpy(small.parsing.astype(np.int64))[None]
    image = image_to_tensor(small.image)[None]
    side = target.box[2] - target.box[0]
    out, previous = [], None
    for t, pose in enumerate(poses):
        corner = np.round(np.array(target.box[:2]) + shift[t])
        box = np.concatenate([corner, corner + side])
        kp = pose.copy()
        kp[:, :2] = (pose[:, :2] - box[:2]) * size / side
        maps = render_pose_maps(torch.from_numpy(kp)[None], size, size, sigma)
        parsing = stages.parsing(one_hot_parsing(ids), maps)["probs"]
        flow = stages.flow(render_pose_maps(torch.from_numpy(small.pose)[None], size, size, sigma), maps)
        fg = stages.foreground(parsing, flow["flow"], flow["visibility"],
                               appearance=extract_foreground(image, ids))["foreground"]
        background = image_to_tensor(crop_box(target.background, box, size))[None]
        if use_fusion:
            if previous is None:
                x_prev = compose(fg, background, 1 - parsing[:, :1])
            else:  # the last output moved with the box: the same shift for every pixel (boxes of one size)
                shift_px = torch.tensor(box[:2] - out[-1]["box"][:2], dtype=torch.float32) * size / side
                flow_to_last = identity_flow(1, size, size) + shift_px.view(1, 2, 1, 1)
                reach = warp(torch.ones(1, 1, size, size), flow_to_last)
                x_prev = warp(previous, flow_to_last) + background * (1 - reach)
            fused = stages.fusion(background, fg, x_prev, 1 - parsing[:, :1])
            mask, previous = fused["mask"], fused["frame"]
        else:
            mask = 1 - parsing[:, :1]
        frame = paste_back(target.background, tensor_to_image(fg[0]), box, mask[0, 0].numpy())
        out.append({"frame": frame, "box": box, "parsing": parsing[0], "flow": flow["flow"][0],
                    "visibility": flow["visibility"][0], "foreground": fg[0], "mask": mask[0, 0]})
    return out


@pytest.mark.parametrize("size, use_fusion, mask_prior", [(STAGE_SIZE, True, False), (2 * STAGE_SIZE, True, False),
                                                         (STAGE_SIZE, False, False), (STAGE_SIZE, True, True)])
def test_pipeline_is_the_stages_with_the_documented_inputs(size, use_fusion, mask_prior):
    stages = _random_stages(mask_prior=mask_prior)
    target, poses, shift = _random_case()
    pipeline = TransferPipeline(stages, batch_size=2, size=size, use_fusion=use_fusion)  # batches of 2, 2, 1
    made = list(pipeline.outputs(poses, target))
    with torch.inference_mode():
        want = _by_hand(stages, target, poses, shift, size, use_fusion)
    assert len(made) == len(want) == len(poses)
    for t, (got, ref) in enumerate(zip(made, want)):
        np.testing.assert_allclose(got["box"], ref["box"], atol=1e-9)
        for key in ("parsing", "flow", "visibility", "foreground", "mask"):
            assert got[key].shape == ref[key].shape, (t, key)
            torch.testing.assert_close(got[key], ref[key], atol=2e-4, rtol=1e-4, msg=f"frame {t} {key}")  # batch noise
        assert np.abs(got["frame"].astype(int) - ref["frame"]).max() <= 1, t
    assert {"parsing", "flow", "foreground", "paste"} <= set(pipeline.timings.seconds)
    # The outputs really depend on the pose: a test of constant outputs would prove nothing.
    assert not torch.allclose(made[0]["flow"], made[-1]["flow"])
    assert not torch.allclose(made[0]["parsing"], made[-1]["parsing"])


@pytest.mark.parametrize("use_fusion", [True, False])
def test_the_photo_outside_the_crop_box_is_untouched(use_fusion):
    stages = _random_stages()
    target, poses, _ = _random_case()
    for out in TransferPipeline(stages, batch_size=4, use_fusion=use_fusion).outputs(poses, target):
        outside = box_coverage(out["box"], 90, 70) == 0
        assert outside.sum() > 0.5 * outside.size
        np.testing.assert_array_equal(out["frame"][outside], target.background[outside])
        assert np.any(out["frame"][~outside] != target.background[~outside])  # and the person is pasted


def test_the_pipeline_without_flow():
    stages = _random_stages(use_flow=False)
    target, poses, _ = _random_case(3)
    made = list(TransferPipeline(stages).outputs(poses, target))
    assert all(out["flow"] is None and out["visibility"] is None for out in made)
    assert all(out["frame"].shape == (70, 90, 3) for out in made)


def test_the_default_batch_is_a_crop_pixel_budget_and_the_frames_do_not_depend_on_it():
    assert [auto_batch_size(s) for s in (32, 64, 128, 256, 448)] == [8, 8, 4, 1, 1]
    stages = _random_stages(use_flow=True)
    target, poses, _ = _random_case(5)
    assert TransferPipeline(stages, size=128).batch_size == 4 and TransferPipeline(stages, batch_size=3).batch_size == 3
    one, three = ([out["frame"] for out in TransferPipeline(stages, batch_size=b).outputs(poses, target)] for b in (1, 3))
    for a, b in zip(one, three):
        assert np.abs(a.astype(int) - b).max() <= 1  # batched convolutions may round differently


def test_pipeline_makes_one_full_size_frame_per_pose(runs, shapes_dataset):
    video = VideoFolder(sorted(Path(shapes_dataset).iterdir())[0])
    target = Target.from_folder(video.root)
    pipeline = TransferPipeline.from_checkpoints(runs, batch_size=4)
    assert pipeline.use_flow and pipeline.size == 64
    frames = list(pipeline.frames(video.poses, target))
    assert len(frames) == len(video)
    assert all(f.shape == target.background.shape and f.dtype == np.uint8 for f in frames)
    assert set(pipeline.timings.seconds) == {"parsing", "flow", "foreground", "fusion", "paste"}
    # Without fusion the parsing is the mask; the frames differ from the fused ones.
    plain = TransferPipeline.from_checkpoints(runs, use_fusion=False)
    assert plain.stages.fusion is None
    other = list(plain.frames(video.poses, target))
    assert len(other) == len(frames) and any(np.any(a != b) for a, b in zip(frames, other))


def test_checkpoints_of_mixed_configs_are_refused(runs, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(runs, mixed)
    config = mixed / "fusion" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["data"]["size"] = 128
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match="one config"):
        TransferPipeline.from_checkpoints(mixed)


def _cli_error(capsys, *args):
    """Run `cpfnet transfer`, expect a failure: the error is one line (progress bars may come before it)."""
    code = main(["transfer", *args])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1].split("\r")[-1]
    assert code != 0 and last.startswith("cpfnet transfer: error: ") and "Traceback" not in err, err
    return last


def test_bad_input_gives_one_line_errors(runs, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not really")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really")
    ok = ["--checkpoints", str(runs)]
    assert "no such source video" in _cli_error(capsys, "--source", str(tmp_path / "x.mp4"), "--target",
                                                 str(photo), "--out", str(tmp_path / "o.mp4"), *ok)
    assert "does not exist" in _cli_error(capsys, "--source", str(video), "--target", str(photo), "--out",
                                          str(tmp_path / "nope" / "o.mp4"), *ok)
    assert "no such checkpoints folder" in _cli_error(capsys, "--source", str(video), "--target", str(photo),
                                                      "--out", str(tmp_path / "o.mp4"), "--checkpoints",
                                                      str(tmp_path / "none"))
    assert "--no-flow" in _cli_error(capsys, "--source", str(video), "--target", str(photo), "--out",
                                     str(tmp_path / "o.mp4"), "--no-flow", *ok)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg", "v.mp4"]


@pytest.mark.slow
def test_a_photo_without_a_person_fails_cleanly(runs, tmp_path, capsys):
    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    empty = tmp_path / "wall.png"
    import cv2

    cv2.imwrite(str(empty), np.full((200, 150, 3), 180, np.uint8))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    err = _cli_error(capsys, "--source", str(REAL / "dance.mp4"), "--target", str(empty), "--out", str(out),
                     "--checkpoints", str(runs))
    assert "person" in err
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "wall.png"]


@pytest.mark.slow
def test_a_video_without_a_person_fails_cleanly(runs, tmp_path, capsys):
    if not (REAL / "person.jpg").is_file():
        pytest.skip("../shared/real is absent")
    shapes = tmp_path / "shapes.mp4"
    with VideoWriter(shapes, fps=10) as writer:
        for t in range(12):
            frame = np.full((120, 160, 3), 90, np.uint8)
            frame[40:80, 10 + 8 * t:40 + 8 * t] = (250, 200, 0)  # a sliding box, nobody dancing
            writer.write(frame)
    out = tmp_path / "out.mp4"
    err = _cli_error(capsys, "--source", str(shapes), "--target", str(REAL / "person.jpg"), "--out", str(out),
                     "--checkpoints", str(runs))
    assert "person" in err and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shapes.mp4"]


@pytest.mark.slow
def test_real_video_onto_real_photo(runs, tmp_path, capsys):
    if not (REAL / "dance.mp4").is_file():
        pytest.skip("../shared/real is absent")
    source = tmp_path / "short.mp4"
    from cpfnet.io.video import iter_frames

    with VideoWriter(source, fps=16) as writer:
        for frame in iter_frames(REAL / "dance.mp4", count=12):
            writer.write(frame)
    out = tmp_path / "result.mp4"
    assert main(["transfer", "--source", str(source), "--target", str(REAL / "person.jpg"), "--out", str(out),
                 "--checkpoints", str(runs)]) == 0
    info = probe(out)
    assert info.num_frames == 12 and info.fps == pytest.approx(16)
    assert (info.width, info.height) == (750, 1102)  # the photo's 750 x 1101, made even for H.264
    side = tmp_path / "side.mp4"
    assert main(["transfer", "--source", str(source), "--target", str(REAL / "person.jpg"), "--out", str(side),
                 "--checkpoints", str(runs), "--side-by-side", "--low-memory"]) == 0  # the pose pass's heap throughout
    assert probe(side).width > 2 * 750


@pytest.mark.slow
def test_demo_writes_videos_previews_and_scores(runs, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--checkpoints", str(runs), "--frames", "10", "--real",
                 str(tmp_path / "no-samples"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "SSIM" in printed and "pasting the photo unchanged" in printed and "skipped the real transfer" in printed
    assert sorted(p.name for p in out.iterdir()) == ["synthetic_preview.png", "synthetic_side_by_side.mp4",
                                                     "synthetic_transfer.mp4"]
    assert probe(out / "synthetic_transfer.mp4").num_frames == 10


def test_shipped_weights_load():
    """The shipped weights: the `fast` stages at 128 px with the pixel path, and no fusion stage (README: it had
    not learnt yet), so the pipeline runs without fusion unless asked, and asking is a clear error."""
    pipeline = TransferPipeline.from_checkpoints(None)
    assert pipeline.stages.runs.name == "default" and pipeline.use_flow and pipeline.pixel_path
    assert pipeline.stages.size == 128 and pipeline.stages.fusion is None and not pipeline.use_fusion
    with pytest.raises(UserError, match="fusion"):
        TransferPipeline.from_checkpoints(None, use_fusion=True)


class _IdentityFlow(torch.nn.Module):
    """A flow stage that says every pixel of frame i is the same pixel of I_a, visible."""

    def forward(self, appearance_maps, pose_maps):
        b, _, h, w = pose_maps.shape
        visibility = torch.zeros(b, 3, h, w)
        visibility[:, 0] = 1
        return {"flow": identity_flow(b, h, w), "visibility": visibility}


def _photo_case(frames: int = 3):
    """`_random_case`'s target standing still, with its full-size photo (the background outside the person)."""
    target, _, _ = _random_case()
    rng = np.random.default_rng(3)
    photo = target.background.copy()
    mask = np.zeros(photo.shape[:2], bool)
    mask[20:48, 34:54] = True
    photo[mask] = rng.integers(0, 256, (int(mask.sum()), 3), dtype=np.uint8)
    target = Target(target.image, target.parsing, target.pose, target.box, target.background, photo, mask)
    return target, np.repeat(target.pose_in_photo[None], frames, axis=0)


@pytest.mark.parametrize("use_fusion", [True, False])
def test_the_pixel_path_gives_the_photo_back_when_nothing_moves(use_fusion):
    """Identity flow, every pixel visible: the photo's own pixels, at full resolution, wherever its person is
    pasted (the generated crop is never seen), and the background elsewhere."""
    stages = _random_stages()
    stages.flow = _IdentityFlow()
    target, poses = _photo_case()
    for out in TransferPipeline(stages, use_fusion=use_fusion).outputs(poses, target):
        frame = out["frame"].astype(int)
        photo, background = target.photo.astype(int), target.background.astype(int)
        # Each pixel lies between the background and the photo (the mask only decides how much of each).
        low, high = np.minimum(photo, background), np.maximum(photo, background)
        assert ((frame >= low - 1) & (frame <= high + 1)).all()
        assert np.abs(frame - background)[target.photo_mask].mean() > 5  # the person shows


def test_the_pixel_path_is_sharper_than_the_crop():
    """Without the pixel path the person is the 32 px crop upsampled; with it, the photo's own detail."""
    stages = _random_stages()
    stages.flow = _IdentityFlow()
    target, poses = _photo_case(1)
    with_pixels = next(TransferPipeline(stages, use_fusion=False).frames(poses, target)).astype(float)
    without = next(TransferPipeline(stages, use_fusion=False, pixel_path=False).frames(poses, target)).astype(float)
    inside = target.photo_mask

    def detail(image):
        return np.abs(np.diff(image, axis=1))[inside[:, 1:]].mean()
    assert detail(with_pixels) > 2 * detail(without)


def test_by_default_the_pixel_path_shows_only_the_photos_pixels():
    """The default: the generator's pixels never reach the frame (another generator, the same frames), so
    stage 2b does not run; with generate_hidden they fill what the photo does not show (a moving dance hides
    and reveals parts)."""
    target, (_, poses, _) = _photo_case()[0], _random_case()
    made = {}
    for seed in (5, 6):
        stages = _random_stages()
        stages.foreground = tiny_stages(True, seed=seed)[2]
        for hidden in (False, True):
            pipeline = TransferPipeline(stages, use_fusion=False, generate_hidden=hidden)
            outputs = list(pipeline.outputs(poses, target))
            made[seed, hidden] = np.stack([out["frame"] for out in outputs])
            assert pipeline.generates(target) == hidden
            assert ("foreground" in pipeline.timings.seconds) == hidden
            assert all((out["foreground"] is None) != hidden for out in outputs)
    assert np.array_equal(made[5, False], made[6, False])
    assert np.abs(made[5, True].astype(int) - made[6, True]).max() > 10


def test_a_personalised_pipeline_shows_its_tuned_generator():
    """Personalising tunes the generator, so the tuned pipeline generates the hidden parts; the original is
    left as it was."""
    pipeline = TransferPipeline(_random_stages(), use_fusion=False)
    tuned = pipeline.personalized(_photo_case()[0], steps=1, progress=False)
    assert tuned.generate_hidden and not pipeline.generate_hidden
    assert tuned.stages.foreground is not pipeline.stages.foreground


def test_the_pixel_path_needs_a_flow_stage():
    with pytest.raises(ValueError, match="needs a flow stage"):
        TransferPipeline(_random_stages(use_flow=False), pixel_path=True)
