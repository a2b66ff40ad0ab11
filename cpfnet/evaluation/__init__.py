"""Evaluation with the paper's metrics (Section IV-B) and the stage-wise ones.

- `fvd`: Frechet Video Distance with the Kinetics-400 I3D (`i3d`, `i3d_weights`), `frechet` for the distance.
- `image_metrics`: PSNR and SSIM, full frame or within the person's box.
- `structure_metrics`: parsing accuracy / mIoU, flow end-point error / visibility accuracy.
- `temporal`: warping error between consecutive frames.
- `video_sets`: the folders of videos that `cpfnet evaluate` reads.
- `table` (with `methods`, `report`, `pictures`): the paper's Table I and Fig. 4, `cpfnet evaluate table`.
"""
