"""Exact, vectorised ray-primitive intersection (numpy, float32).

Every body part is a smooth primitive in its own canonical coordinates, placed on a bone by an affine map
(rotation, per-axis scale, translation), so ellipsoids and elliptical tapered limbs come from three kinds:

- ELLIPSOID: the unit sphere.
- ROUNDCONE: spheres of radius r1 at the origin and r2 at (0, h, 0) joined by their tangent cone (a
  tapered capsule; Inigo Quilez's closed-form intersection).
- FRUSTUM: the open side of a cone frustum x^2 + z^2 = r(y)^2, r linear from r1 at y=0 to r2 at y=h,
  two-sided (skirts).

Ellipsoids and frustums may carry `cuts`: regions of their canonical surface that are removed (a hair
shell open over the face). A ray then sees the far side of the shell through the hole, as it would.

Rays are given with their origins already moved close to the primitive (see `render.py`), which keeps
the quadratic forms well conditioned in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ELLIPSOID, ROUNDCONE, FRUSTUM = 0, 1, 2
INF = np.float32(np.inf)


@dataclass(frozen=True)
class Shape:
    """A canonical primitive. `params` = (r1, r2, h) for ROUNDCONE and FRUSTUM. `cuts` is a tuple of
    removed regions, each a tuple of half-spaces (nx, ny, nz, d): a point p is removed when it satisfies
    n.p > d for every half-space of some region."""

    kind: int
    params: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cuts: tuple = ()

    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Canonical axis-aligned bounding box (lo [3], hi [3])."""
        if self.kind == ELLIPSOID:
            return -np.ones(3), np.ones(3)
        r1, r2, h = self.params
        r = max(r1, r2)
        if self.kind == ROUNDCONE:
            return np.array([-r, -r1, -r]), np.array([r, h + r2, r])
        return np.array([-r, 0.0, -r]), np.array([r, h, r])


def _removed(cuts, x, y, z) -> np.ndarray:
    out = np.zeros(x.shape, bool)
    for region in cuts:
        inside = np.ones(x.shape, bool)
        for nx, ny, nz, d in region:
            inside &= nx * x + ny * y + nz * z > d
        out |= inside
    return out


def _pick(t0, t1, ok0, ok1, o, d, cuts):
    """Nearest of two candidate hits that is in front of the origin and not cut away."""
    ok0 = ok0 & (t0 > 0)
    ok1 = ok1 & (t1 > 0)
    if cuts:
        ok0 &= ~_removed(cuts, *(o[i] + t0 * d[i] for i in range(3)))
        ok1 &= ~_removed(cuts, *(o[i] + t1 * d[i] for i in range(3)))
    return np.where(ok0, t0, np.where(ok1, t1, INF))


def _ellipsoid(o, d, shape: Shape):
    ox, oy, oz = o
    dx, dy, dz = d
    a = dx * dx + dy * dy + dz * dz
    b = ox * dx + oy * dy + oz * dz
    c = ox * ox + oy * oy + oz * oz - 1.0
    disc = b * b - a * c
    hit = disc > 0
    s = np.sqrt(np.maximum(disc, 0))
    t0, t1 = (-b - s) / a, (-b + s) / a
    if not shape.cuts:
        return np.where(hit & (t0 > 0), t0, INF)
    return _pick(t0, t1, hit, hit, o, d, shape.cuts)


def _frustum(o, d, shape: Shape):
    r1, r2, h = shape.params
    k = (r2 - r1) / h
    ox, oy, oz = o
    dx, dy, dz = d
    r0 = r1 + k * oy
    a = dx * dx + dz * dz - k * k * dy * dy
    a = np.where(np.abs(a) < 1e-12, np.float32(1e-12), a)
    b = ox * dx + oz * dz - k * dy * r0
    c = ox * ox + oz * oz - r0 * r0
    disc = b * b - a * c
    hit = disc > 0
    s = np.sqrt(np.maximum(disc, 0))
    ta, tb = (-b - s) / a, (-b + s) / a
    t0, t1 = np.minimum(ta, tb), np.maximum(ta, tb)
    y0, y1 = oy + t0 * dy, oy + t1 * dy
    # r(y) > 0 keeps the mirrored nappe of the double cone out.
    ok0 = hit & (y0 >= 0) & (y0 <= h) & (r1 + k * y0 > 0)
    ok1 = hit & (y1 >= 0) & (y1 <= h) & (r1 + k * y1 > 0)
    return _pick(t0, t1, ok0, ok1, o, d, shape.cuts)


def _roundcone(o, d, shape: Shape):
    r1, r2, h = shape.params
    ox, oy, oz = o
    dx, dy, dz = d
    length = np.sqrt(dx * dx + dy * dy + dz * dz)
    ux, uy, uz = dx / length, dy / length, dz / length
    rr = r1 - r2
    m0 = h * h
    m1 = h * oy
    m2 = h * uy
    m3 = ox * ux + oy * uy + oz * uz
    m5 = ox * ox + oy * oy + oz * oz
    oby = oy - h
    m6 = ox * ux + oby * uy + oz * uz
    m7 = ox * ox + oby * oby + oz * oz
    d2 = m0 - rr * rr
    k2 = d2 - m2 * m2
    k2 = np.where(np.abs(k2) < 1e-12, np.float32(1e-12), k2)
    k1 = d2 * m3 - m1 * m2 + m2 * rr * r1
    k0 = d2 * m5 - m1 * m1 + m1 * rr * r1 * 2.0 - m0 * r1 * r1
    disc = k1 * k1 - k0 * k2
    hit = disc > 0
    t_body = (-np.sqrt(np.maximum(disc, 0)) - k1) / k2
    y = m1 - r1 * rr + t_body * m2
    on_body = hit & (y > 0) & (y < d2)
    h1 = m3 * m3 - m5 + r1 * r1
    h2 = m6 * m6 - m7 + r2 * r2
    cap1 = np.where(h1 > 0, -m3 - np.sqrt(np.maximum(h1, 0)), INF)
    cap2 = np.where(h2 > 0, -m6 - np.sqrt(np.maximum(h2, 0)), INF)
    t = np.where(on_body, t_body, np.where(hit, np.minimum(cap1, cap2), INF))
    t = np.where(t > 0, t, INF)
    return t / length


_INTERSECT = {ELLIPSOID: _ellipsoid, ROUNDCONE: _roundcone, FRUSTUM: _frustum}


def intersect(shape: Shape, origin, direction) -> np.ndarray:
    """Ray parameter of the first hit, or inf.

    Args:
        origin: 3 arrays (x, y, z) in canonical coordinates, broadcastable to the directions.
        direction: 3 arrays, canonical (not necessarily unit length); t is in units of `direction`.
    Returns:
        t, an array of the directions' shape (float32, inf where the ray misses).
    """
    return _INTERSECT[shape.kind](origin, direction, shape)


def normals(shape: Shape, p: np.ndarray) -> np.ndarray:
    """Outward canonical surface normals (not normalised) at canonical surface points p [N, 3]."""
    if shape.kind == ELLIPSOID:
        return p.copy()
    r1, r2, h = shape.params
    if shape.kind == FRUSTUM:
        k = (r2 - r1) / h
        n = p.copy()
        n[:, 1] = -(r1 + k * p[:, 1]) * k
        return n
    rr = r1 - r2
    d2 = h * h - rr * rr
    y = (h * p[:, 1] - r1 * rr)[:, None]
    body = d2 * p - np.array([0.0, h, 0.0]) * y
    cap1 = p
    cap2 = p - np.array([0.0, h, 0.0])
    return np.where(y <= 0, cap1, np.where(y >= d2, cap2, body))
