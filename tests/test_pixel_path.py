"""The pixel path: region boxes, crop maps sampled at full resolution, crop flows into photo pixels, the
box-only composite, and the geometric-warp pipeline on a photo."""

import numpy as np
import torch

from cpfnet.ops.warp import identity_flow
from cpfnet.transfer.pixel_path import (body_region, composite, crop_flow_to_photo, photo_tensors, sample_crop,
                                        warp_photo)
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
    image, alpha = photo_tensors(photo, mask)
    region = (5, 5, 25, 35)
    flow = identity_flow(1, 30, 20) + torch.tensor([5.0, 5.0]).view(1, 2, 1, 1)
    warped = warp_photo(image, alpha, flow)
    torch.testing.assert_close(warped["image"], image[..., 5:35, 5:25])
    background = np.full_like(photo, 7)
    out = composite(background, region, warped["image"], warped["alpha"])
    assert (out[mask] == photo[mask]).all()  # the person, exactly
    outside = np.ones((40, 30), bool)
    outside[5:35, 5:25] = False
    assert (out[outside] == 7).all() and (out[~mask] == 7).all()


def test_a_synthetic_video_folder_is_a_target_with_its_full_size_photo(synth_dataset):
    from cpfnet.dataset.layout import VideoFolder
    from cpfnet.transfer.target import Target

    folder = sorted(p for p in synth_dataset.iterdir() if p.is_dir())[0]
    target = Target.from_folder(folder)
    video = VideoFolder(folder)
    a = video.appearance_index
    np.testing.assert_array_equal(target.photo, video.frame(a))  # the crop is the whole rendered frame
    np.testing.assert_array_equal(target.photo_mask, video.parsing(a) != 0)
