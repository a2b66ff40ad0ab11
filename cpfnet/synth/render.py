"""Render a posed body by exact ray casting: anti-aliased RGB, and per pixel centre the body part, the
hit's depth, its point in the part's canonical coordinates, and its LIP label.

Per part, only the rays inside the part's projected bounding box are tested (slices of the precomputed
ray grid), and each ray starts near the part (its origin moved forward to the part's bounding sphere),
which keeps float32 exact to about a micrometre. Colour is the mean of s x s samples per pixel (their
background colours are precomputed once, the camera being fixed); labels, part ids, depth and surface
points come from the pixel centre only, never from anti-aliased colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cpfnet.synth.body import BodyModel
from cpfnet.synth.camera import Camera
from cpfnet.synth.lighting import Lighting
from cpfnet.synth.raycast import INF, intersect, normals
from cpfnet.synth.room import render_room
from cpfnet.synth.scene import SceneStyle


def sample_offsets(supersample: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel sample positions [n, 2]: sample 0 is the pixel centre; returns them and the indices of
    the s x s colour samples (which include the centre when s is odd)."""
    grid = (np.arange(supersample) + 0.5) / supersample
    colour = np.stack(np.meshgrid(grid, grid, indexing="xy"), -1).reshape(-1, 2)
    is_centre = np.all(np.abs(colour - 0.5) < 1e-9, axis=1)
    offsets = np.concatenate([[[0.5, 0.5]], colour[~is_centre]])
    colour_index = np.arange(1, len(offsets)) if not is_centre.any() else np.arange(len(offsets))
    return offsets, colour_index


@dataclass
class Posed:
    """A body in one pose, ready for casting: per part canonical->world [K, 3, 4] and its inverse,
    projected bounding boxes [K, 4] (x0, y0, x1, y1 pixels), bounding-sphere ray shifts [K]."""

    to_world: np.ndarray
    to_canonical: np.ndarray
    boxes: np.ndarray
    shifts: np.ndarray


class Renderer:
    """Renders one body model with one camera, lighting and room."""

    def __init__(self, body: BodyModel, camera: Camera, lighting: Lighting, scene: SceneStyle,
                 supersample: int = 2):
        self.body, self.camera, self.lighting = body, camera, lighting
        self.size = camera.size
        self.offsets, self.colour_index = sample_offsets(supersample)
        self.dirs = camera.grid_directions(self.offsets)  # [3, n, S, S]
        self.origin = np.asarray(camera.position, np.float64)
        # The room takes the light's leftover colour cast, like everything the camera sees.
        self.room = render_room(scene, self.origin, self.dirs) * np.float32(lighting.cast)  # [n, S, S, 3]
        self.light = np.asarray(lighting.direction, np.float64)
        self.light /= np.linalg.norm(self.light)
        self.photo = Photo(scene.photo, self.size) if scene.photo is not None else None
        self._boxes = [p.shape.box() for p in body.parts]
        corners = np.array([[(lo[0], hi[0])[i & 1], (lo[1], hi[1])[(i >> 1) & 1], (lo[2], hi[2])[i >> 2]]
                            for lo, hi in self._boxes for i in range(8)]).reshape(len(self._boxes), 8, 3)
        self._corners = corners
        self._local = np.stack([p.local for p in body.parts])  # [K, 3, 4]
        self._bones = np.array([p.bone for p in body.parts])

    def background(self) -> np.ndarray:
        """The clean room, RGB uint8 [S, S, 3]."""
        return _to_uint8(self._develop(self.room[self.colour_index].mean(0)))

    def pose(self, bone_world: np.ndarray) -> Posed:
        """Place the parts for bone transforms [B, 4, 4] (world <- bone)."""
        bw = bone_world[self._bones]  # [K, 4, 4]
        lin = bw[:, :3, :3] @ self._local[:, :, :3]
        trans = np.einsum("kij,kj->ki", bw[:, :3, :3], self._local[:, :, 3]) + bw[:, :3, 3]
        to_world = np.concatenate([lin, trans[:, :, None]], 2)
        inv = np.linalg.inv(lin)
        to_canonical = np.concatenate([inv, -np.einsum("kij,kj->ki", inv, trans)[:, :, None]], 2)
        corners = np.einsum("kij,kcj->kci", lin, self._corners) + trans[:, None, :]  # [K, 8, 3]
        u, v, depth = self.camera.project(corners)
        boxes = np.stack([u.min(1), v.min(1), u.max(1), v.max(1)], 1)
        boxes[depth.min(1) <= 0] = (0, 0, self.size, self.size)
        centre = corners.mean(1)
        radius = np.sqrt(((corners - centre[:, None]) ** 2).sum(-1)).max(1)
        shifts = np.maximum(np.sqrt(((centre - self.origin) ** 2).sum(-1)) - radius * 1.01, 0.0)
        return Posed(to_world, to_canonical, boxes, shifts)

    def _cast_part(self, posed: Posed, k: int, d: np.ndarray) -> np.ndarray:
        """World ray parameters of part k along world unit directions d [3, ...] from the camera."""
        m = posed.to_canonical[k].astype(np.float32)
        dc = np.tensordot(m[:, :3], d, axes=1)  # [3, ...]
        oc = m[:, :3] @ self.origin.astype(np.float32) + m[:, 3]
        s = np.float32(posed.shifts[k])
        origin = [oc[i] + s * dc[i] for i in range(3)]
        return intersect(self.body.parts[k].shape, origin, dc) + s

    def cast_grid(self, posed: Posed, samples: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest hit for every pixel sample: t [n, S, S] float32 (inf = background) and part [n, S, S]
        int16 (-1 = background). `samples` selects sample rows (e.g. [0]: pixel centres only)."""
        dirs = self.dirs if samples is None else self.dirs[:, samples]
        n = dirs.shape[1]
        t = np.full((n, self.size, self.size), INF, np.float32)
        part = np.full((n, self.size, self.size), -1, np.int16)
        for k in range(len(self.body.parts)):
            x0, y0, x1, y1 = posed.boxes[k]
            x0, y0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
            x1, y1 = min(int(np.ceil(x1)) + 1, self.size), min(int(np.ceil(y1)) + 1, self.size)
            if x1 <= x0 or y1 <= y0:
                continue
            tk = self._cast_part(posed, k, dirs[:, :, y0:y1, x0:x1])
            tb = t[:, y0:y1, x0:x1]
            closer = tk < tb
            tb[closer] = tk[closer]
            part[:, y0:y1, x0:x1][closer] = k
        return t, part

    def cast_rays(self, posed: Posed, dirs: np.ndarray, u: np.ndarray, v: np.ndarray):
        """Nearest hit along arbitrary camera rays: unit directions [3, N] through pixel positions u, v [N]
        -> t [N] (inf = none), part [N] (-1 = none)."""
        t = np.full(len(u), INF, np.float32)
        part = np.full(len(u), -1, np.int16)
        d32 = dirs.astype(np.float32)
        for k in range(len(self.body.parts)):
            x0, y0, x1, y1 = posed.boxes[k]
            idx = np.nonzero((u >= x0 - 1) & (u <= x1 + 1) & (v >= y0 - 1) & (v <= y1 + 1))[0]
            if len(idx) == 0:
                continue
            tk = self._cast_part(posed, k, d32[:, idx])
            closer = tk < t[idx]
            t[idx[closer]] = tk[closer]
            part[idx[closer]] = k
        return t, part

    def surface(self, posed: Posed, k: int, d: np.ndarray, t: np.ndarray):
        """Hit points of part k along directions d [3, N] at parameters t [N]: canonical points [N, 3]
        (float64) and world unit normals [N, 3] facing the camera."""
        x = self.origin[:, None] + d.astype(np.float64) * t.astype(np.float64)[None]  # [3, N]
        m = posed.to_canonical[k]
        pc = (m[:, :3] @ x + m[:, 3:4]).T
        nc = normals(self.body.parts[k].shape, pc)
        n = nc @ m[:, :3]  # inverse-transpose of the canonical->world map: n_w = M^-T n_c
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        facing = (n * d.T).sum(1) > 0
        n[facing] *= -1
        return pc, n

    def render(self, posed: Posed, colour: bool = True) -> dict[str, np.ndarray]:
        """Render one pose.

        Returns: part [S, S] int16 (-1 background), depth [S, S] float32 (ray length, inf background),
        point [S, S, 3] float64 canonical surface point (0 on background), parsing [S, S] uint8 LIP
        labels, and with `colour` rgb [S, S, 3] uint8.
        """
        samples = None if colour else np.array([0])
        t, part = self.cast_grid(posed, samples)
        n, s = t.shape[0], self.size
        flat_t, flat_part = t.reshape(-1), part.reshape(-1)
        flat_dirs = (self.dirs if colour else self.dirs[:, :1]).reshape(3, -1)
        hits = np.nonzero(flat_part >= 0)[0]
        order = np.argsort(flat_part[hits], kind="stable")
        hits = hits[order]
        parts_sorted = flat_part[hits]
        bounds = np.searchsorted(parts_sorted, np.arange(len(self.body.parts) + 1))
        centre_count = s * s
        point = np.zeros((s * s, 3))
        parsing = np.zeros(s * s, np.uint8)
        shaded = self.room.reshape(-1, 3).copy() if colour else None
        for k, part_k in enumerate(self.body.parts):
            idx = hits[bounds[k]:bounds[k + 1]]
            if len(idx) == 0:
                continue
            d = flat_dirs[:, idx]
            pc, nw = self.surface(posed, k, d, flat_t[idx])
            pb = pc @ part_k.local[:, :3].T + part_k.local[:, 3]
            centre = idx < centre_count  # sample row 0 is the pixel centre
            if centre.any():
                point[idx[centre]] = pc[centre]
                parsing[idx[centre]] = part_k.material.labels(pc[centre], pb[centre])
            if colour:
                pr = pb + self.body.rest_origins[part_k.bone]
                albedo = part_k.material.albedo(pc, pb, pr)
                shaded[idx] = self.shade(albedo, nw.astype(np.float32), d.T.astype(np.float32),
                                         part_k.material.gloss)
        out = {
            "part": part[0],
            "depth": t[0],
            "point": point.reshape(s, s, 3),
            "parsing": parsing.reshape(s, s),
        }
        if colour:
            out["rgb"] = _to_uint8(self._develop(shaded.reshape(n, s, s, 3)[self.colour_index].mean(0)))
        return out

    def shade(self, albedo: np.ndarray, n: np.ndarray, d: np.ndarray, gloss: float) -> np.ndarray:
        """Colours [N, 3] of surface points with sRGB albedo [N, 3], world unit normals n [N, 3] (facing the
        camera) seen along view directions d [N, 3]: gamma-correct Lambertian shading, the light summed in
        linear RGB then brought to sRGB, which is the albedo times light ** (1 / 2.2) for a power-law gamma;
        the key wrapped by `wrap` (soft light), the ambient of a hemisphere (sky above, `ground` below);
        plus a Blinn-Phong highlight in the key's colour for glossy materials."""
        li = self.lighting
        light = self.light.astype(np.float32)
        ndl = n @ light
        key = np.maximum((ndl + np.float32(li.wrap)) / np.float32(1 + li.wrap), 0)
        sky = np.float32(li.ground) + np.float32(1 - li.ground) * (0.5 + 0.5 * n[:, 1])
        linear = (np.float32(li.ambient) * sky)[:, None] * np.float32(li.ambient_colour) \
            + (np.float32(li.diffuse) * key)[:, None] * np.float32(li.key_colour)
        out = albedo * np.power(linear, np.float32(1 / 2.2))
        if li.specular > 0 and gloss > 0:
            half = light[None] - d
            half /= np.linalg.norm(half, axis=1, keepdims=True) + np.float32(1e-6)
            ndh = np.maximum((n * half).sum(1), 0) * (ndl > 0)
            spec = np.float32(li.specular * gloss * li.diffuse) * np.power(ndh, np.float32(li.shininess))
            out = out + spec[:, None] * np.float32(li.key_colour) ** np.float32(1 / 2.2)
        return out

    def _develop(self, image: np.ndarray) -> np.ndarray:
        return image if self.photo is None else self.photo(image)


LUMA = np.float32([0.299, 0.587, 0.114])


class Photo:
    """The camera's processing of a rendered image [S, S, 3] (float sRGB), after `PhotoStyle`: exposure and
    vignetting, contrast and saturation, a soft highlight shoulder (instead of a hard clip), sensor noise
    (a fixed pattern, signal-dependent), a 3 x 3 blur or sharpening of luminance and extra chroma blur.
    Everything is pointwise except the 3 x 3 kernels, so a pixel with no body within one pixel comes out
    exactly as in the clean background, which goes through the same processing."""

    def __init__(self, style, size: int):
        self.style = style
        c = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
        r2 = (c[None] ** 2 + c[:, None] ** 2) * 2  # 1 at the corners
        self.gain = (style.exposure * (1 - style.vignette * r2 ** 1.5)).astype(np.float32)[..., None]
        rng = np.random.default_rng(style.seed)
        luma = rng.standard_normal((size, size, 1), dtype=np.float32)
        chroma = rng.standard_normal((size, size, 3), dtype=np.float32)
        self.noise = np.float32(style.noise) * ((1 - style.chroma_noise) * luma + style.chroma_noise * chroma)
        self.luma_kernel = self._kernel(style.soften)
        self.chroma_kernel = self._kernel(min(style.soften + style.chroma_blur, 0.33))

    @staticmethod
    def _kernel(side: float) -> np.ndarray | None:
        return None if side == 0 else np.float32([side, 1 - 2 * side, side])

    @staticmethod
    def _filter(image: np.ndarray, kernel: np.ndarray | None) -> np.ndarray:
        if kernel is None:
            return image
        return cv2.sepFilter2D(image, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        st = self.style
        img = image.astype(np.float32) * self.gain
        luma = img @ LUMA
        img = luma[..., None] + np.float32(st.saturation) * (img - luma[..., None])
        img = np.float32(0.45) + np.float32(st.contrast) * (img - np.float32(0.45))
        over = img > 0.85
        img[over] = 0.85 + 0.15 * np.tanh((img[over] - 0.85) / 0.15)
        if st.noise > 0:
            img = img + self.noise * np.sqrt(np.float32(0.2) + np.clip(img, 0, 1))
        if self.luma_kernel is None and self.chroma_kernel is None:
            return img
        luma = img @ LUMA
        chroma = img - luma[..., None]
        return self._filter(luma, self.luma_kernel)[..., None] + self._filter(chroma, self.chroma_kernel)

def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
