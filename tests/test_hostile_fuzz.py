"""Property-based fuzzing (hypothesis) of the two readers of user-written text: the experiment config loader
and the OpenPose JSON reader. Whatever they are given, they either return a valid result or raise UserError
(a one-line message): never another exception."""

from __future__ import annotations

import json
import math

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpfnet.body.openpose_json import read_openpose_json
from cpfnet.configs.dataclass_yaml import to_dict
from cpfnet.configs.experiment import load_config, parse_config
from cpfnet.errors import UserError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6), st.integers(),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)

# Real keys, so that the fuzzing reaches the value checks and not only the unknown-key error.
TINY = to_dict(load_config("tiny"))
SECTIONS = sorted(TINY)


def _leaf_paths(tree: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for key, value in tree.items():
        out.extend(_leaf_paths(value, prefix + (key,)) if isinstance(value, dict) else [prefix + (key,)])
    return out


LEAVES = _leaf_paths(TINY)


def _set(tree: dict, path: tuple, value) -> dict:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return tree


def _check_config(text: str) -> None:
    try:
        config = parse_config(text, "fuzz.yaml")
    except UserError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    for path in LEAVES:  # what loaded is within range: finite numbers, positive learning rates
        node = to_dict(config)
        for key in path:
            node = node[key]
        for v in node if isinstance(node, list) else [node]:
            if isinstance(v, float):
                assert math.isfinite(v), (path, v)
                if path[-1] == "lr":
                    assert v > 0, (path, v)


@FUZZ
@given(st.dictionaries(st.one_of(st.sampled_from(SECTIONS), st.text(max_size=6)), values, max_size=3))
def test_random_yaml_mappings_load_or_raise_user_error(data):
    _check_config(yaml.safe_dump(data))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(LEAVES), values), min_size=1, max_size=4))
def test_random_values_under_real_keys_load_or_raise_user_error(changes):
    tree = json.loads(json.dumps(TINY))
    for path, value in changes:
        _set(tree, path, value)
    _check_config(yaml.safe_dump(tree))


@FUZZ
@given(st.text(max_size=60))
def test_random_yaml_text_loads_or_raises_user_error(text):
    _check_config(text)


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 40, 10 ** 40))
keypoints = st.one_of(st.lists(numbers, min_size=54, max_size=54), st.lists(numbers, max_size=60),
                      st.lists(values, max_size=6), values)
people = st.lists(st.one_of(st.fixed_dictionaries({"pose_keypoints_2d": keypoints}),
                            st.dictionaries(st.text(max_size=6), values, max_size=3), values), max_size=3)
documents = st.one_of(st.fixed_dictionaries({"version": values, "people": people}),
                      st.dictionaries(st.text(max_size=6), values, max_size=3), values)


@FUZZ
@given(documents)
def test_random_openpose_json_reads_or_raises_user_error(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("openpose") / "frame_keypoints.json"
    path.write_text(json.dumps(document))
    try:
        pose = read_openpose_json(path)
    except UserError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert pose.shape == (18, 3) and pose.dtype == np.float32 and np.isfinite(pose).all()


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_as_openpose_json_raise_user_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("openpose") / "frame_keypoints.json"
    path.write_bytes(data)
    try:
        pose = read_openpose_json(path)
    except UserError:
        return
    assert pose.shape == (18, 3) and np.isfinite(pose).all()
