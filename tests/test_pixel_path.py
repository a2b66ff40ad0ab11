"""The pixel path: region boxes, crop maps sampled at full resolution, crop flows into photo pixels, the
box-only composite, and the geometric-warp pipeline on a photo."""

import cv2
import numpy as np
import pytest
import torch

from cpfnet.ops.warp import identity_flow
from cpfnet.ops.workspace import Workspace
from cpfnet.transfer.pixel_path import (upsample_to_region, body_region, box_region, composite, crop_flow_to_photo,
                                        mask_region, paste_photo, photo_rgba, photo_source, sample_crop, warp_photo)
from tests.test_limb_flow import standing_pose


def test_body_region_holds_the_keypoints_and_stays_in_the_frame():
    pose = standing_pose()[0].numpy().astype(np.float32)
    x0, y0, x1, y1 = body_region(pose, 100, 120)
    assert 0 <= x0 < pose[:, 0].min() and pose[:, 0].max() < x1 <= 100
    assert 0 <= y0 < pose[:, 1].min() and y1 == 120  # the feet are near the bottom: clipped
    assert body_region(np.zeros((18, 3), np.float32), 100, 120) == (0, 0, 0, 0)


def test_sample_crop_reads_the_crop_at_photo_pixels():
    # A crop of box (10, 20, 50, 60) at 8 px holds the photo's x coordinate: sampling it on the region must
    # give back each region pixel's own x (bilinear is exact on a linear ramp inside the box).
    s, box = 8, (10.0, 20.0, 50.0, 60.0)
    crop_x = (torch.arange(s) + 0.5) * (40 / s) + 10
    crop = crop_x.view(1, 1, 1, s).expand(1, 1, s, s).contiguous()
    region = (20, 30, 40, 50)
    out = sample_crop(crop, box, region)
    expected = (torch.arange(20, 40) + 0.5).view(1, 1, 1, 20).expand(1, 1, 20, 20)
    torch.testing.assert_close(out, expected.float())


def test_identity_crop_flow_maps_region_pixels_to_themselves():
    s, box = 16, (4.0, 8.0, 68.0, 72.0)
    flow = identity_flow(1, s, s)  # frame i's crop = the appearance crop, every pixel samples itself
    region = (10, 12, 60, 70)
    out = crop_flow_to_photo(flow, box, box, region)
    torch.testing.assert_close(out, identity_flow(1, 58, 50) + torch.tensor([10.0, 12.0]).view(1, 2, 1, 1))


def test_identity_flow_warps_the_photo_back_to_itself_and_composite_touches_only_the_region():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    mask = np.zeros((40, 30), bool)
    mask[10:30, 8:20] = True
    source = photo_source(photo, mask)
    region = (5, 5, 25, 35)
    flow = identity_flow(1, 30, 20) + torch.tensor([5.0, 5.0]).view(1, 2, 1, 1)
    warped = warp_photo(source, flow)
    torch.testing.assert_close(warped["image"], source[:, :3, 5:35, 5:25], atol=1e-3, rtol=0)  # grey levels
    background = np.full_like(photo, 7)
    out = composite(background, region, warped["image"], warped["alpha"])
    assert (out[mask] == photo[mask]).all()  # the person, exactly
    outside = np.ones((40, 30), bool)
    outside[5:35, 5:25] = False
    assert (out[outside] == 7).all() and (out[~mask] == 7).all()


FRACTIONAL_BOX, WHOLE_BOX = (30.5, -10.25, 95.5, 60.0), (30.0, -10.0, 95.0, 60.0)


def _paste_case(seed: int, box=FRACTIONAL_BOX):
    """A 90 x 120 photo, a crop box partly outside it, a random smooth crop flow and a blob-shaped eq. 5 mask."""
    rng = np.random.default_rng(seed)
    # A photo with edges as sharp as a real one's (not pixel noise, which no 1/32 px sampling reproduces).
    photo = cv2.GaussianBlur(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8), (0, 0), 1.0)
    mask = cv2.GaussianBlur((rng.random((90, 120)) > 0.3).astype(np.float32), (0, 0), 1.0)
    background = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    s, appearance_box = 16, (20.0, 10.0, 84.0, 74.0)
    flow = identity_flow(1, s, s) + torch.from_numpy(rng.normal(0, 1.5, (1, 2, 1, 1))).float()
    flow = flow + torch.nn.functional.interpolate(torch.from_numpy(rng.normal(0, 2, (1, 2, 4, 4))).float(), size=s,
                                                  mode="bilinear")
    bound = torch.zeros(1, 1, s, s)
    bound[..., 3:9, 5:12] = torch.from_numpy(rng.random((1, 1, 6, 7))).float()
    bound[..., 0, 0] = 0.5 / 255  # under the threshold: may be dropped, at most one grey level
    return photo, mask, background, flow, box, appearance_box, bound


@pytest.mark.parametrize("box", [FRACTIONAL_BOX, WHOLE_BOX], ids=["warpAffine", "resize"])
def test_paste_photo_is_the_full_box_float_composite_within_a_few_grey_levels_and_touches_only_its_region(box):
    for seed in range(4):
        photo, mask, background, flow, box, appearance_box, bound = _paste_case(seed, box)
        source = photo_source(photo, mask)
        region = box_region(box, 120, 90)
        warped = warp_photo(source, crop_flow_to_photo(flow, box, appearance_box, region))
        reference = composite(background, region, warped["image"],
                              (warped["alpha"] * sample_crop(bound, box, region)).clamp(0, 1))
        before = background.copy()
        out = paste_photo(background, photo_rgba(photo, mask), flow, box, appearance_box, bound)
        assert (background == before).all()  # a new frame; the background is not written
        diff = np.abs(out.astype(int) - reference)
        assert diff.max() <= 6 and diff.mean() < 0.1, (seed, diff.max(), diff.mean())  # 1/32 px, 8-bit mask
        assert (out != background).any()
        x0, y0, x1, y1 = mask_region(bound[0, 0].numpy(), box, region)
        assert x1 - x0 < region[2] - region[0] and y1 - y0 < region[3] - region[1]  # the work is smaller
        outside = np.ones((90, 120), bool)
        outside[y0:y1, x0:x1] = False
        assert (out[outside] == background[outside]).all()


@pytest.mark.parametrize("box", [(3.0, -7.0, 50.0, 41.0), (-2.0, 4.0, 19.0, 25.0), (3.25, -7.5, 50.0, 41.75)])
def test_upsampling_a_crop_map_to_the_region_is_sample_crop(box):
    """cv2.resize on a whole-pixel box (and warpAffine on any other) give sample_crop's bilinear lookup."""
    rng = np.random.default_rng(0)
    crop = rng.random((16, 16)).astype(np.float32)
    x0, y0, x1, y1 = box_region(box, 40, 30)
    region = (x0 + 2, y0 + 1, x1 - 3, y1)  # a part of the box's pixels, as mask_region gives
    expected = sample_crop(torch.from_numpy(crop)[None, None], box, region)[0, 0].numpy()
    whole = all(float(v).is_integer() for v in box)
    got = upsample_to_region(crop, box, region, Workspace(), "map")
    assert got.shape == expected.shape
    # resize is exact; warpAffine's weights are in 1/32 steps.
    np.testing.assert_allclose(got, expected, atol=1e-5 if whole else 1 / 32, rtol=0)
    levels = np.round(crop * 255).astype(np.uint8)  # the bound's map: rounded to a level after each pass
    got = upsample_to_region(levels, box, region, Workspace(), "map")
    reference = sample_crop(torch.from_numpy(levels.astype(np.float32))[None, None], box, region)[0, 0].numpy()
    assert got.dtype == np.uint8 and np.abs(got - reference).max() <= (1.5 if whole else 8)


def test_a_workspace_kept_over_frames_of_other_sizes_gives_the_same_frames_and_keeps_its_buffers():
    work = Workspace()
    for seed in (0, 1, 2, 0):  # regions of different sizes, then the first again: smaller views of grown buffers
        photo, mask, background, flow, box, appearance_box, bound = _paste_case(seed)
        rgba = photo_rgba(photo, mask)
        fresh = paste_photo(background, rgba, flow, box, appearance_box, bound)
        kept = paste_photo(background, rgba, flow, box, appearance_box, bound, work=work)
        assert np.array_equal(kept, fresh), seed
    buffers = {name: flat.ctypes.data for name, flat in work._flat.items()}
    paste_photo(background, rgba, flow, box, appearance_box, bound, work=work)
    assert {name: flat.ctypes.data for name, flat in work._flat.items()} == buffers  # nothing allocated anew
    view = work("alpha", (3, 5), np.float32)
    assert view.flags.c_contiguous and view.shape == (3, 5)


def test_mask_region_holds_every_upsampled_value_at_the_threshold():
    rng = np.random.default_rng(3)
    for s, box in ((8, (10.0, 20.0, 50.0, 60.0)), (16, (-3.5, 2.25, 40.0, 45.75)), (5, (0.0, 0.0, 97.0, 97.0))):
        region = box_region(box, 100, 100)
        mask = torch.zeros(1, 1, s, s)
        i, j = rng.integers(0, s, 2)
        mask[..., i, j] = 1.0
        up = sample_crop(mask, box, region)[0, 0]
        x0, y0, x1, y1 = mask_region(mask[0, 0].numpy(), box, region)
        inside = torch.zeros_like(up, dtype=torch.bool)
        inside[y0 - region[1]:y1 - region[1], x0 - region[0]:x1 - region[0]] = True
        assert (up[~inside] < 1 / 255).all() and (up[inside] >= 1 / 255).any(), (s, box)
    assert mask_region(np.zeros((8, 8)), (0, 0, 8, 8), (0, 0, 8, 8))[2] == 0  # empty


def test_a_synthetic_video_folder_is_a_target_with_its_full_size_photo(synth_dataset):
    from cpfnet.dataset.layout import VideoFolder
    from cpfnet.transfer.target import Target

    folder = sorted(p for p in synth_dataset.iterdir() if p.is_dir())[0]
    target = Target.from_folder(folder)
    video = VideoFolder(folder)
    a = video.appearance_index
    np.testing.assert_array_equal(target.photo, video.frame(a))  # the crop is the whole rendered frame
    np.testing.assert_array_equal(target.photo_mask, video.parsing(a) != 0)
