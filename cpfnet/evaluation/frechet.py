"""The Frechet distance between two Gaussians, as FID and FVD use it (Section IV-B).

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr( (S1^1/2 S2 S1^1/2)^1/2 )

The trace term is computed as the reference FVD code does (TF-GAN's `trace_sqrt_product`): through the
symmetric matrix S1^1/2 S2 S1^1/2, whose eigenvalues are those of S1 S2 but which is symmetric positive
semi-definite, so a symmetric eigen-decomposition gives a real, stable square root even when the
covariances are singular (fewer videos than feature dimensions, the usual case). Everything runs in
float64; eigenvalues that round to slightly negative values are clipped to zero.
"""

from __future__ import annotations

import numpy as np


def _as_float64_matrix(name: str, value: np.ndarray, dim: int | None = None) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    if value.ndim != 2 or value.shape[0] != value.shape[1] or (dim is not None and value.shape[0] != dim):
        want = f"[{dim}, {dim}]" if dim is not None else "[D, D]"
        raise ValueError(f"{name} must be a square matrix {want}, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")
    return value


def symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite [D, D] matrix (float64), negative rounding clipped."""
    matrix = _as_float64_matrix("matrix", matrix)
    sym = (matrix + matrix.T) / 2
    eigenvalues, eigenvectors = np.linalg.eigh(sym)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root) @ eigenvectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr( (S1 S2)^1/2 ) = tr( (S1^1/2 S2 S1^1/2)^1/2 ) for PSD [D, D] matrices, in float64."""
    sigma1 = _as_float64_matrix("sigma1", sigma1)
    sigma2 = _as_float64_matrix("sigma2", sigma2, sigma1.shape[0])
    root1 = symmetric_sqrt(sigma1)
    inner = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] (divided by N - 1, as TF-GAN) of features [N, D], float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"features must be [N, D], got shape {features.shape}")
    if features.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {features.shape[0]}")
    if not np.all(np.isfinite(features)):
        raise ValueError("features contain NaN or infinity")
    mean = features.mean(axis=0)
    centred = features - mean
    return mean, centred.T @ centred / (features.shape[0] - 1)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2); mu [D], sigma [D, D]. Never negative."""
    mu1 = np.asarray(mu1, dtype=np.float64)
    mu2 = np.asarray(mu2, dtype=np.float64)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"means must be vectors of one length, got {mu1.shape} and {mu2.shape}")
    sigma1 = _as_float64_matrix("sigma1", sigma1, mu1.shape[0])
    sigma2 = _as_float64_matrix("sigma2", sigma2, mu1.shape[0])
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    # Identical sets give a tiny negative number from rounding; a distance is never below zero.
    return float(max(value, 0.0))


def frechet_distance_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to features1 [N1, D] and features2 [N2, D]."""
    mu1, sigma1 = gaussian_statistics(features1)
    mu2, sigma2 = gaussian_statistics(features2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature sizes differ: {mu1.shape[0]} and {mu2.shape[0]}")
    return frechet_distance(mu1, sigma1, mu2, sigma2)
