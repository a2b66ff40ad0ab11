"""Synthetic dancers' appearance (issue 9, item 4): real-photo-like colour statistics of clothes, skin, hair
and rooms; textures with detail at the rendering resolution; lighting that shades across a body and varies
between people; camera effects that keep the exact ground truth (the clean background) and determinism."""

from __future__ import annotations

import colorsys
import dataclasses

import cv2
import numpy as np
import pytest

from cpfnet.body.parsing_labels import LABEL
from cpfnet.synth.generate import setup_video
from cpfnet.synth.identity import sample_identity
from cpfnet.synth.lighting import LUMA, kelvin_rgb
from cpfnet.synth.render import Photo, Renderer
from cpfnet.synth.scene import PhotoStyle

SEED = 11
GARMENT_LABELS = [LABEL[n] for n in ("upper_clothes", "dress", "coat", "pants", "skirt")]


def _luma(rgb) -> np.ndarray:
    return np.asarray(rgb, np.float64) @ LUMA


def _hsv(rgb) -> np.ndarray:
    return np.array([colorsys.rgb_to_hsv(*c) for c in rgb])


@pytest.fixture(scope="module")
def people():
    return [sample_identity(SEED, i) for i in range(300)]


def test_clothes_skin_and_hair_colours_look_like_real_photos(people):
    """Clothes: many near-neutral, dark and light extremes common, pastels a minority; skin over the whole
    range from very light to very dark; hair mostly dark, some blond and grey."""
    clothes = np.array([p.look.top_colour for p in people] + [p.look.bottom_colour for p in people])
    hsv = _hsv(clothes)
    luma = _luma(clothes)
    assert (luma < 0.12).mean() > 0.15, "too few black or near-black garments"
    assert (luma > 0.75).mean() > 0.07, "too few white or very light garments"
    neutral = (hsv[:, 1] < 0.2) | ((hsv[:, 0] > 0.55) & (hsv[:, 0] < 0.68) & (hsv[:, 2] < 0.65))  # + navy, denim
    assert neutral.mean() > 0.5, neutral.mean()
    saturated = (hsv[:, 1] > 0.6) & (hsv[:, 2] > 0.4)
    assert 0.05 < saturated.mean() < 0.35, saturated.mean()
    pastel = (hsv[:, 1] > 0.15) & (hsv[:, 1] < 0.5) & (hsv[:, 2] > 0.5) & ~neutral
    assert pastel.mean() < 0.2, pastel.mean()

    skin = _luma([p.look.skin for p in people])
    assert skin.min() < 0.2 and skin.max() > 0.8
    quartiles = np.percentile(skin, [25, 50, 75])
    assert quartiles[2] - quartiles[0] > 0.2, quartiles  # spread over the range, not bunched
    assert len(np.unique(np.round(skin, 3))) > 200  # continuous, not a handful of tones

    hair = np.array([p.look.hair_colour for p in people])
    hair_luma = _luma(hair)
    assert (hair_luma < 0.12).mean() > 0.45
    assert 0.05 < (hair_luma > 0.4).mean() < 0.3  # blond, grey, platinum
    hue, sat = _hsv(hair)[:, 0], _hsv(hair)[:, 1]
    dyed = (sat > 0.4) & (hue > 0.15) & (hue < 0.95)  # saturated, and not a hue of natural (brown) hair
    assert 0 < dyed.mean() < 0.12, dyed.mean()


def test_rooms_and_lighting_vary_like_photos(people):
    walls = np.array([p.scene.wall_colour for p in people])
    patterns = [p.scene.wall_pattern for p in people]
    assert (_hsv(walls)[:, 1] < 0.15).mean() > 0.45  # white, off-white and grey walls are common
    assert patterns.count("studio") > 15 and len(set(patterns)) >= 10
    blurred = np.array([p.scene.blur > 0 for p in people])
    assert 0.2 < blurred.mean() < 0.8
    light = [p.lighting for p in people]
    directions = np.array([li.direction for li in light])
    assert directions[:, 0].std() > 0.3 and directions[:, 1].std() > 0.15  # from left, right, above, level
    key_share = np.array([li.diffuse / (li.diffuse + li.ambient) for li in light])
    assert key_share.min() < 0.35 and key_share.max() > 0.75  # soft to hard light
    warmth = np.array([li.key_colour[0] / li.key_colour[2] for li in light])
    assert (warmth > 1.1).mean() > 0.1 and (warmth < 0.95).mean() > 0.05  # warm and cool keys remain
    photo = [p.scene.photo for p in people]
    exposure = np.array([ph.exposure for ph in photo])
    assert exposure.min() < 0.88 and exposure.max() > 1.1
    assert 0.4 < np.mean([ph.noise > 0 for ph in photo]) < 0.95
    soften = np.array([ph.soften for ph in photo])
    assert (soften > 0).mean() > 0.2 and (soften < 0).mean() > 0.2
    np.testing.assert_allclose(kelvin_rgb(6600) @ LUMA, 1.0)
    assert kelvin_rgb(3000)[0] > kelvin_rgb(3000)[2] * 2 and kelvin_rgb(10000)[2] > kelvin_rgb(10000)[0]


def _renderer(identity: int, size: int = 128, photo: bool = False, lighting=None):
    setup = setup_video(SEED, identity, identity, 4, 25, size)
    scene = setup.identity.scene if photo else dataclasses.replace(setup.identity.scene, photo=None)
    renderer = Renderer(setup.body, setup.camera, lighting or setup.identity.lighting, scene, 2)
    return setup, renderer


def _flat(lighting):
    """Light that makes every visible point show its albedo: rgb == albedo (to the uint8 rounding)."""
    return dataclasses.replace(lighting, ambient=1.0, diffuse=0.0, ground=1.0, specular=0.0,
                               ambient_colour=(1.0, 1.0, 1.0))


def test_garments_carry_texture_at_the_rendering_resolution():
    """At 128 px, the cloth of many people has detail from pixel to pixel (stripes, checks, prints, denim,
    heather, folds), plain cloth still occurs; measured on the albedo (flat light, no camera effects) as the
    mean absolute Laplacian of luminance inside the garments, away from their edges."""
    energy = []
    for i in range(14):
        setup, renderer = _renderer(i, lighting=_flat(sample_identity(SEED, i).lighting))
        frame = renderer.render(renderer.pose(setup.world[0]))
        inside = np.zeros(frame["parsing"].shape, bool)
        for label in GARMENT_LABELS:  # each garment's inside, not the edges between garments
            inside |= cv2.erode((frame["parsing"] == label).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if inside.sum() < 100:
            continue
        grey = cv2.cvtColor(frame["rgb"], cv2.COLOR_RGB2GRAY).astype(np.float32)
        energy.append(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[inside].mean())
    energy = np.array(energy)
    assert len(energy) >= 10
    assert (energy > 12.0).mean() >= 0.4, np.round(energy, 1)  # patterned: clear pixel-level detail
    assert (energy < 8.0).any(), np.round(energy, 1)  # and some plain cloth


def test_lighting_shades_across_a_body_and_differs_between_people():
    """Lit / flat-lit colour on the body: varies over one body (the key light and the hemisphere ambient
    follow the surface normals), more under hard light than under soft light."""
    spreads = []
    for i in range(6):
        lighting = sample_identity(SEED, i).lighting
        setup, lit = _renderer(i)
        _, flat = _renderer(i, lighting=_flat(lighting))
        posed = lit.pose(setup.world[0])
        a, b = lit.render(posed), flat.render(posed)
        body = cv2.erode((a["parsing"] > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        albedo = b["rgb"].astype(np.float32).sum(-1)
        ok = body & (albedo > 60)
        ratio = a["rgb"].astype(np.float32).sum(-1)[ok] / albedo[ok]
        lo, hi = np.percentile(ratio, [10, 90])
        spreads.append(hi - lo)
    assert min(spreads) > 0.1 and np.median(spreads) > 0.2, np.round(spreads, 2)
    assert np.ptp(spreads) > 0.1, np.round(spreads, 2)


@pytest.fixture(scope="module")
def strong_photo():
    return PhotoStyle(exposure=1.15, contrast=1.1, saturation=1.2, vignette=0.3, noise=0.02, chroma_noise=0.4,
                      soften=0.2, chroma_blur=0.13, seed=5)


def test_camera_effects_keep_the_background_exact_and_are_deterministic(strong_photo):
    """With strong camera effects (noise, blur, vignette, exposure), every pixel with no body within two
    pixels still equals the clean background exactly, frame after frame, and a second renderer built from
    the same seed gives the same pixels."""
    setup = setup_video(SEED, 3, 3, 6, 25, 96)
    scene = dataclasses.replace(setup.identity.scene, photo=strong_photo, blur=0.01)
    renderers = [Renderer(setup.body, setup.camera, setup.identity.lighting, scene, 2) for _ in range(2)]
    background = renderers[0].background()
    np.testing.assert_array_equal(background, renderers[1].background())
    clean = Renderer(setup.body, setup.camera, setup.identity.lighting,
                     dataclasses.replace(scene, photo=None), 2).background()
    assert np.abs(background.astype(int) - clean.astype(int)).mean() > 2  # the effects do something
    for t in (0, 5):
        frames = [r.render(r.pose(setup.world[t])) for r in renderers]
        np.testing.assert_array_equal(frames[0]["rgb"], frames[1]["rgb"])
        body = cv2.dilate((frames[0]["parsing"] > 0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        assert body.sum() > 200
        np.testing.assert_array_equal(frames[0]["rgb"][~body], background[~body])


def test_photo_soften_sharpen_noise_vignette():
    size = 64
    checker = ((np.indices((size, size)).sum(0) // 2) % 2).astype(np.float32)[..., None] * np.float32([0.6, 0.5, 0.4])
    image = 0.2 + checker

    def hf(img):
        return np.abs(cv2.Laplacian(img.mean(-1), cv2.CV_32F)).mean()

    plain = Photo(PhotoStyle(), size)(image)
    np.testing.assert_allclose(plain, image, atol=1e-6)
    assert hf(Photo(PhotoStyle(soften=0.2), size)(image)) < 0.7 * hf(image)
    assert hf(Photo(PhotoStyle(soften=-0.1), size)(image)) > 1.2 * hf(image)
    flat = np.full((size, size, 3), 0.5, np.float32)
    noisy = Photo(PhotoStyle(noise=0.02, seed=1), size)(flat)
    assert 0.015 < (noisy - flat).std() < 0.025
    np.testing.assert_array_equal(noisy, Photo(PhotoStyle(noise=0.02, seed=1), size)(flat))
    vignetted = Photo(PhotoStyle(vignette=0.3), size)(flat)
    assert vignetted[0, 0].mean() < 0.8 * vignetted[size // 2, size // 2].mean()
