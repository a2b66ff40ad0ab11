"""The Frechet distance between two Gaussians, as FID and FVD use it (Section IV-B).

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr( (S1^1/2 S2 S1^1/2)^1/2 )

From statistics, the trace term is computed as the reference FVD code does (TF-GAN's
`trace_sqrt_product`): through the symmetric matrix S1^1/2 S2 S1^1/2, whose eigenvalues are those of S1 S2
but which is symmetric positive semi-definite, so a symmetric eigen-decomposition gives a real square
root. Eigenvalues below the rounding level (D * eps * the largest) are set to zero: they are the null
space of a singular covariance (fewer videos than feature dimensions, the usual case for FVD), and the
square roots of their rounding noise would otherwise add up to a visible error.

From features, when there are fewer videos than dimensions, the trace term is exact and cheaper in the
videos' own space: with centred features A [N1, D], B [N2, D], S1 = A'A / (N1 - 1), S2 = B'B / (N2 - 1),
the non-zero eigenvalues of S1 S2 are the squared singular values of A B' / sqrt((N1 - 1)(N2 - 1)), so
tr (S1 S2)^1/2 is the sum of those singular values (the nuclear norm). Everything runs in float64.
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


def _significant(eigenvalues: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with those at rounding level (or negative) set to zero."""
    tolerance = eigenvalues.size * np.finfo(np.float64).eps * max(float(np.abs(eigenvalues).max(initial=0.0)), 0.0)
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite [D, D] matrix (float64); rounding-level eigenvalues -> 0."""
    matrix = _as_float64_matrix("matrix", matrix)
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * np.sqrt(_significant(eigenvalues))) @ eigenvectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr( (S1 S2)^1/2 ) = tr( (S1^1/2 S2 S1^1/2)^1/2 ) for PSD [D, D] matrices, in float64."""
    sigma1 = _as_float64_matrix("sigma1", sigma1)
    sigma2 = _as_float64_matrix("sigma2", sigma2, sigma1.shape[0])
    root1 = symmetric_sqrt(sigma1)
    inner = root1 @ sigma2 @ root1
    return float(np.sqrt(_significant(np.linalg.eigvalsh((inner + inner.T) / 2))).sum())


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
    """Frechet distance between Gaussians fitted (unbiased covariance) to features1 [N1, D] and features2 [N2, D].

    With no more videos than dimensions the trace term comes exactly from the [N1, N2] cross matrix of the
    centred features; otherwise from the covariances (`frechet_distance`).
    """
    mu1, sigma1 = gaussian_statistics(features1)
    mu2, sigma2 = gaussian_statistics(features2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature sizes differ: {mu1.shape[0]} and {mu2.shape[0]}")
    n1, n2, dim = len(features1), len(features2), mu1.shape[0]
    if max(n1, n2) > dim:
        return frechet_distance(mu1, sigma1, mu2, sigma2)
    a = np.asarray(features1, dtype=np.float64) - mu1
    b = np.asarray(features2, dtype=np.float64) - mu2
    scale = np.sqrt((n1 - 1) * (n2 - 1))
    trace_root = np.linalg.svd(a @ b.T, compute_uv=False).sum() / scale
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_root
    return float(max(value, 0.0))
