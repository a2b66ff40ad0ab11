"""Procedural dances: joint-angle tracks within human limits, root steps and whole-body turns.

A dance is a sequence of moves (arm waves, raises, crossings, punches, swings; bounces, squats, steps,
side steps, kicks) that cross-fade every 1-2.5 s. Each joint angle is a sum of low-frequency sinusoids
locked to a tempo (smooth in time), softly clamped to its anatomical range. The whole body turns by 120
to 300 degrees at least once per clip, so parts are hidden and become visible again. The feet are kept
on the floor by lowering or raising the root to the lowest sole point.

A motion depends only on (seed, motion id) through `SeedSequence(seed, spawn_key=(1, motion))`; joint
angles and root motion are shared by every identity that dances it (root steps scale with body size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpfnet.synth.body import BodyModel
from cpfnet.synth.skeleton import (BONE, NUM_BONES, forward_kinematics, rot_x, rot_y, rot_z, rotation_between,
                                   transform_points)

# Anatomical ranges in degrees. Arm "elev" is the angle from hanging down (0) to straight up (180),
# "azim" its direction around the body: 0 to the side, 90 forward, more than 90 across the front.
LIMITS = {
    "pelvis_tilt": (-8, 15), "pelvis_roll": (-8, 8),
    "spine_bend": (-12, 28), "spine_side": (-12, 12), "spine_twist": (-25, 25),
    "chest_bend": (-10, 15), "chest_side": (-10, 10), "chest_twist": (-20, 20),
    "neck_nod": (-20, 25), "neck_tilt": (-15, 15), "neck_turn": (-30, 30),
    "head_nod": (-20, 20), "head_tilt": (-15, 15), "head_turn": (-35, 35),
    "shoulder_elev": (8, 165), "shoulder_azim": (-35, 115), "shoulder_twist": (-60, 60),
    "elbow": (3, 145), "wrist_flex": (-45, 45), "wrist_dev": (-15, 25),
    "hip_flex": (-20, 100), "hip_abd": (-8, 40), "hip_twist": (-25, 30),
    "knee": (0, 130), "ankle": (-40, 45),
}
SIDED = ("shoulder_elev", "shoulder_azim", "shoulder_twist", "elbow", "wrist_flex", "wrist_dev",
         "hip_flex", "hip_abd", "hip_twist", "knee", "ankle")
# Every angle track of a motion: the midline ones, then each sided one for the left ("l_") and right ("r_").
DOFS = tuple(n for n in LIMITS if n not in SIDED) + tuple(f"{s}_{n}" for s in "lr" for n in SIDED)
ARM_MOVES = ("swing", "wave", "up", "cross", "punch", "groove")
LEG_MOVES = ("bounce", "squat", "step", "side_step", "kick", "groove")


@dataclass
class Motion:
    """Joint-angle tracks (radians, [T] each), root offset [T, 2] (x, z metres for a 1.7 m person) and
    whole-body yaw [T] (radians, 0 = facing the camera)."""

    fps: float
    angles: dict
    root: np.ndarray
    yaw: np.ndarray
    summary: dict

    @property
    def num_frames(self) -> int:
        return len(self.yaw)


def motion_stream(seed: int, motion: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(1, motion))


def soft_clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Identity inside the inner 80% of [lo, hi], then an exponential approach to the limit (C1)."""
    m = 0.1 * (hi - lo)
    a, b = lo + m, hi - m
    out = np.where(x > b, hi - m * np.exp(-(x - b) / m), x)
    return np.where(x < a, lo + m * np.exp(-(a - x) / m), out)


class _Track:
    """Accumulates one segment's parameters for a DOF: centre + sum of sinusoids."""

    def __init__(self, centre: float = 0.0):
        self.centre = centre
        self.waves: list[tuple[float, float, float]] = []

    def add(self, amp: float, freq: float, phase: float) -> "_Track":
        self.waves.append((amp, freq, phase))
        return self

    def __call__(self, t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, self.centre, np.float64)
        for amp, freq, phase in self.waves:
            out += amp * np.sin(2 * np.pi * freq * t + phase)
        return out


def _segment(rng: np.random.Generator, beat: float, energy: float) -> tuple[dict, dict, str, str]:
    """One move: DOF tracks (degrees) and root sway (metres) for a few seconds."""
    u = rng.uniform
    ph = lambda: u(0, 2 * np.pi)  # noqa: E731
    tr: dict[str, _Track] = {}
    # Groove: everything moves a little with the beat.
    tr["pelvis_tilt"] = _Track(u(0, 5)).add(3 * energy, beat, ph())
    tr["pelvis_roll"] = _Track(0).add(4 * energy, beat / 2, ph())
    for part, k in (("spine", 1.0), ("chest", 0.6)):
        tr[f"{part}_bend"] = _Track(u(-3, 8) * k).add(4 * k * energy, beat, ph())
        tr[f"{part}_side"] = _Track(u(-4, 4) * k).add(6 * k * energy, beat / 2, ph())
        tr[f"{part}_twist"] = _Track(u(-10, 10) * k).add(12 * k * energy, beat / 2, ph())
    for part in ("neck", "head"):
        tr[f"{part}_nod"] = _Track(u(-5, 8)).add(7 * energy, beat, ph())
        tr[f"{part}_tilt"] = _Track(u(-5, 5)).add(6 * energy, beat / 2, ph())
        tr[f"{part}_turn"] = _Track(u(-12, 12)).add(10 * energy, beat / 4, ph())
    arm_phase = ph()
    for s, sign in (("l", 1), ("r", -1)):
        off = 0 if s == "l" else np.pi  # arms swing in opposition by default
        tr[f"{s}_shoulder_elev"] = _Track(u(15, 35)).add(12 * energy, beat / 2, arm_phase + off)
        tr[f"{s}_shoulder_azim"] = _Track(u(30, 70)).add(25 * energy, beat / 2, arm_phase + off)
        tr[f"{s}_shoulder_twist"] = _Track(u(-20, 20)).add(15 * energy, beat / 2, ph())
        tr[f"{s}_elbow"] = _Track(u(20, 70)).add(18 * energy, beat, ph())
        tr[f"{s}_wrist_flex"] = _Track(u(-15, 15)).add(15 * energy, beat, ph())
        tr[f"{s}_wrist_dev"] = _Track(u(0, 10)).add(6 * energy, beat, ph())
        tr[f"{s}_hip_flex"] = _Track(u(0, 8)).add(6 * energy, beat / 2, arm_phase + off + np.pi)
        tr[f"{s}_hip_abd"] = _Track(u(3, 9)).add(3 * energy, beat / 2, ph())
        tr[f"{s}_hip_twist"] = _Track(u(-5, 8)).add(6 * energy, beat / 2, ph())
        tr[f"{s}_knee"] = _Track(u(5, 15)).add(6 * energy, beat, ph())

    arm_move = str(rng.choice(ARM_MOVES))
    symmetry = str(rng.choice(("mirror", "alternate", "independent")))
    phase0 = ph()
    for s in ("l", "r"):
        if symmetry == "independent" and s == "r":
            phase0 = ph()
        phase = phase0 + (np.pi if (symmetry == "alternate" and s == "r") else 0.0)
        f = beat / 2
        if arm_move == "wave":
            tr[f"{s}_shoulder_elev"] = _Track(u(80, 140)).add(u(20, 40) * energy, f, phase)
            tr[f"{s}_shoulder_azim"] = _Track(u(0, 60)).add(30 * energy, f, phase + 1)
            tr[f"{s}_elbow"] = _Track(u(30, 80)).add(40 * energy, beat, phase)
        elif arm_move == "up":
            tr[f"{s}_shoulder_elev"] = _Track(u(135, 160)).add(12 * energy, f, phase)
            tr[f"{s}_shoulder_azim"] = _Track(u(10, 60)).add(20 * energy, f, phase)
            tr[f"{s}_elbow"] = _Track(u(15, 50)).add(25 * energy, beat, phase)
        elif arm_move == "cross":
            tr[f"{s}_shoulder_elev"] = _Track(u(60, 90)).add(15 * energy, f, phase)
            tr[f"{s}_shoulder_azim"] = _Track(u(95, 112)).add(12 * energy, f, phase)
            tr[f"{s}_elbow"] = _Track(u(60, 110)).add(30 * energy, beat, phase)
        elif arm_move == "punch":
            tr[f"{s}_shoulder_elev"] = _Track(u(70, 100)).add(10 * energy, f, phase)
            tr[f"{s}_shoulder_azim"] = _Track(u(70, 95)).add(10 * energy, f, phase)
            tr[f"{s}_elbow"] = _Track(70).add(65 * energy, f, phase)
        elif arm_move == "swing":
            tr[f"{s}_shoulder_elev"] = _Track(u(30, 60)).add(35 * energy, f, phase)
            tr[f"{s}_shoulder_azim"] = _Track(u(40, 80)).add(45 * energy, f, phase)
            tr[f"{s}_elbow"] = _Track(u(20, 60)).add(25 * energy, beat, phase)

    leg_move = str(rng.choice(LEG_MOVES))
    sway = {"x": _Track(0).add(u(0.01, 0.05) * energy, beat / 2, ph()), "z": _Track(0)}
    lead = str(rng.choice(("l", "r")))
    for s in ("l", "r"):
        alt = np.pi if s == "r" else 0.0
        if leg_move in ("bounce", "squat"):
            depth = u(15, 35) if leg_move == "bounce" else u(50, 95)
            freq = beat if leg_move == "bounce" else beat / 4
            phase = phase0 if leg_move == "bounce" else -np.pi / 2
            tr[f"{s}_knee"] = _Track(depth / 2 + 3).add(depth / 2 * energy, freq, phase)
            tr[f"{s}_hip_flex"] = _Track(0.55 * depth / 2 + 3).add(0.55 * depth / 2 * energy, freq, phase)
            tr["spine_bend"] = _Track(0.15 * depth / 2 + 3).add(0.15 * depth / 2 * energy, freq, phase)
        elif leg_move == "step":
            tr[f"{s}_hip_flex"] = _Track(18).add(22 * energy, beat / 2, phase0 + alt)
            tr[f"{s}_knee"] = _Track(35).add(32 * energy, beat / 2, phase0 + alt - 0.6)
            sway["x"] = _Track(0).add(u(0.05, 0.12) * energy, beat / 2, phase0)
        elif leg_move == "side_step":
            tr[f"{s}_hip_abd"] = _Track(12).add(10 * energy, beat / 2, phase0 + alt)
            tr[f"{s}_knee"] = _Track(18).add(14 * energy, beat / 2, phase0 + alt)
            sway["x"] = _Track(0).add(u(0.1, 0.2) * energy, beat / 2, phase0 + np.pi / 2)
        elif leg_move == "kick" and s == lead:
            tr[f"{s}_hip_flex"] = _Track(35).add(35 * energy, beat / 2, phase0)
            tr[f"{s}_knee"] = _Track(35).add(30 * energy, beat / 2, phase0 + np.pi)
    return tr, sway, arm_move, leg_move


def _turns(rng: np.random.Generator, t: np.ndarray) -> tuple[np.ndarray, list]:
    """Whole-body yaw (radians): a start angle, a slow sway, and smooth turns of 120-300 degrees."""
    duration = t[-1] + (t[1] - t[0] if len(t) > 1 else 0.04)
    yaw = np.full(t.shape, np.radians(rng.uniform(-35, 35)))
    yaw += np.radians(rng.uniform(5, 15)) * np.sin(2 * np.pi * rng.uniform(0.1, 0.25) * t + rng.uniform(0, 2 * np.pi))
    turns = []
    start = rng.uniform(0.1, 0.4) * duration
    while start < duration * 0.85:
        length = min(rng.uniform(0.7, 1.5), 0.55 * duration)
        amount = np.radians(rng.uniform(120, 300)) * rng.choice([-1, 1])
        x = np.clip((t - start) / length, 0, 1)
        yaw += amount * x * x * x * (x * (6 * x - 15) + 10)  # smootherstep: C2 at both ends
        turns.append((round(float(start), 3), round(float(np.degrees(amount)), 1)))
        start += length + rng.uniform(1.5, 4.0)
    return yaw, turns


def sample_motion(seed: int, index: int, num_frames: int, fps: float) -> Motion:
    """The motion `index` of `seed`, `num_frames` long at `fps` (deterministic)."""
    rng = np.random.default_rng(motion_stream(seed, index))
    t = np.arange(num_frames) / fps
    duration = num_frames / fps
    beat = rng.uniform(84, 132) / 60.0
    energy = rng.uniform(0.6, 1.0)
    seg_len = rng.uniform(1.2, 2.5)
    n_seg = max(1, int(np.ceil(duration / seg_len)) + 1)
    centres = (np.arange(n_seg) - 0.5 + rng.uniform(0, 1)) * seg_len
    weights = np.exp(-0.5 * ((t[None, :] - centres[:, None]) / (0.45 * seg_len)) ** 2) + 1e-12
    weights /= weights.sum(0, keepdims=True)
    raw = {name: np.zeros(num_frames) for name in DOFS}
    root = np.zeros((num_frames, 2))
    moves = []
    for j in range(n_seg):
        tracks, sway, arm_move, leg_move = _segment(rng, beat, energy)
        moves.append(f"{arm_move}+{leg_move}")
        for name, track in tracks.items():
            raw[name] += weights[j] * track(t)
        root[:, 0] += weights[j] * sway["x"](t)
    # Wandering about the floor: slow, within a small area.
    for axis, amp in ((0, 0.22), (1, 0.2)):
        for _ in range(2):
            root[:, axis] += rng.uniform(0.3, 0.5) * amp * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t
                                                                   + rng.uniform(0, 2 * np.pi))
    angles = {}
    for name, values in raw.items():
        if name.endswith("ankle"):
            continue
        lo, hi = LIMITS[name[2:] if name[:2] in ("l_", "r_") else name]
        angles[name] = np.radians(soft_clip(values, lo, hi))
    # Feet flat on the floor: the ankle cancels the leg's pitch (pelvis tilt - hip flexion + knee), with
    # a little pointing of its own.
    for s in "lr":
        own = rng.uniform(-5, 10) + 6 * np.sin(2 * np.pi * beat / 2 * t + rng.uniform(0, 2 * np.pi))
        value = np.degrees(angles[f"{s}_hip_flex"] - angles[f"{s}_knee"] - angles["pelvis_tilt"]) + own
        angles[f"{s}_ankle"] = np.radians(soft_clip(value, *LIMITS["ankle"]))
    yaw, turns = _turns(rng, t)
    summary = {"tempo_bpm": round(float(beat * 60), 1), "moves": moves, "turns": turns}
    return Motion(fps=float(fps), angles=angles, root=root, yaw=yaw, summary=summary)


def local_rotations(motion: Motion) -> np.ndarray:
    """Each bone's rotation relative to its parent: [T, B, 3, 3] (the root's includes the yaw)."""
    a = motion.angles
    rot = np.zeros((motion.num_frames, NUM_BONES, 3, 3))
    rot[:, BONE["pelvis"]] = rot_y(motion.yaw) @ rot_x(a["pelvis_tilt"]) @ rot_z(a["pelvis_roll"])
    for bone, names in (("spine", ("bend", "side", "twist")), ("chest", ("bend", "side", "twist")),
                        ("neck", ("nod", "tilt", "turn")), ("head", ("nod", "tilt", "turn"))):
        bend, side, twist = (a[f"{bone}_{n}"] for n in names)
        rot[:, BONE[bone]] = rot_z(side) @ rot_x(bend) @ rot_y(twist)
    for s, side in (("l", 1.0), ("r", -1.0)):
        elev, azim = a[f"{s}_shoulder_elev"], a[f"{s}_shoulder_azim"]
        direction = np.stack([side * np.sin(elev) * np.cos(azim), -np.cos(elev), np.sin(elev) * np.sin(azim)], -1)
        rot[:, BONE[f"{s}_upper_arm"]] = rotation_between(np.array([0.0, -1.0, 0.0]), direction) \
            @ rot_y(side * a[f"{s}_shoulder_twist"])
        rot[:, BONE[f"{s}_forearm"]] = rot_x(-a[f"{s}_elbow"])
        rot[:, BONE[f"{s}_hand"]] = rot_z(side * a[f"{s}_wrist_dev"]) @ rot_x(-a[f"{s}_wrist_flex"])
        rot[:, BONE[f"{s}_thigh"]] = rot_z(side * a[f"{s}_hip_abd"]) @ rot_x(-a[f"{s}_hip_flex"]) \
            @ rot_y(side * a[f"{s}_hip_twist"])
        rot[:, BONE[f"{s}_shin"]] = rot_x(a[f"{s}_knee"])
        rot[:, BONE[f"{s}_foot"]] = rot_x(a[f"{s}_ankle"])
    # The skirt swings with the thighs' mean: midway between the legs, it leaves each the same room.
    # Cloth only lifts so far: the swing saturates smoothly at 30 degrees.
    limit = np.radians(30)
    swing = lambda x: limit * np.tanh(x / limit)  # noqa: E731
    rot[:, BONE["skirt"]] = rot_z(swing(0.5 * (a["l_hip_abd"] - a["r_hip_abd"]))) \
        @ rot_x(-swing(0.5 * (a["l_hip_flex"] + a["r_hip_flex"])))
    return rot


def animate(body: BodyModel, motion: Motion, scale: float) -> np.ndarray:
    """World <- bone transforms [T, B, 4, 4] of `body` dancing `motion`; `scale` (body height / 1.7 m)
    scales the root's steps. The root is lowered so the lowest sole point rests on the floor."""
    rot = local_rotations(motion)
    t = motion.num_frames
    root = np.zeros((t, 3))
    root[:, 0], root[:, 2] = motion.root[:, 0] * scale, motion.root[:, 1] * scale
    root[:, 1] = body.pelvis_height
    world = forward_kinematics(body.offsets, rot, root)
    soles = transform_points(world[:, body.sole_bones], body.sole_points)[..., 1]  # [T, 4]
    # A soft minimum (2 mm) keeps the root height smooth when the supporting foot changes.
    tau = 0.002
    lowest = soles.min(1)
    lowest = lowest - tau * np.log(np.exp(-(soles - lowest[:, None]) / tau).sum(1))
    world[:, :, 1, 3] -= lowest[:, None]
    return world


def keypoints_3d(body: BodyModel, world: np.ndarray) -> np.ndarray:
    """World positions [T, 18, 3] of the COCO-18 keypoints."""
    return transform_points(world[:, body.keypoint_bones], body.keypoint_points)
