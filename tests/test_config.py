"""Experiment configs: shipped names, strict YAML -> dataclasses, the keys the data fixes, the resolved copy,
what may change on resume."""

import inspect
from dataclasses import asdict, fields

import pytest
import yaml

from cpfnet.errors import UserError
from cpfnet.nn.perceptual import PerceptualLoss
from cpfnet.stages.flow.network import FlowRegressor
from cpfnet.stages.foreground.network import ForegroundDiscriminator, ForegroundGenerator
from cpfnet.stages.fusion.network import FusionNet
from cpfnet.stages.parsing.network import ParsingGenerator
from cpfnet.configs.dataclass_yaml import to_dict
from cpfnet.configs.experiment import Config, dump_config, known_configs, load_config, parse_config
from cpfnet.stages.registry import STAGES
from cpfnet.training.resume import config_difference


def test_shipped_configs_load():
    assert {"paper", "tiny"} <= set(known_configs())
    for name in known_configs():
        config = load_config(name)
        assert isinstance(config, Config)
        assert all(config.stage(stage).schedule.batch_size >= 1 for stage in STAGES)


def test_paper_config_has_the_papers_settings():
    c = load_config("paper")
    assert c.data.size == 448
    assert (c.parsing.loss.l1_weight, c.parsing.loss.ce_weight, c.parsing.optimizer.lr) == (10.0, 10.0, 2e-4)
    fg = c.foreground
    assert (fg.loss.adversarial_weight, fg.loss.l1_weight, fg.loss.perceptual_weight) == (0.01, 1.0, 1.0)
    assert (fg.generator_optimizer.lr, fg.discriminator_optimizer.lr, fg.schedule.batch_size) == (2e-4, 2e-5, 8)
    assert (c.fusion.optimizer.lr, c.fusion.schedule.batch_size, c.fusion.clip_length) == (1e-4, 1, 5)
    assert (c.fusion.loss.l1_weight, c.fusion.loss.perceptual_weight) == (1.0, 1.0)
    assert c.parsing.network.n_blocks == 9 and fg.generator.use_flow
    for section in (c.parsing, c.flow, c.fusion):
        assert section.optimizer.betas == (0.5, 0.999)
    assert fg.generator_optimizer.betas == fg.discriminator_optimizer.betas == (0.5, 0.999)


def test_network_sections_mirror_the_constructors():
    c = load_config("tiny")
    for cls, section in ((ParsingGenerator, c.parsing.network), (FlowRegressor, c.flow.network),
                         (ForegroundGenerator, c.foreground.generator),
                         (ForegroundDiscriminator, c.foreground.discriminator), (FusionNet, c.fusion.network),
                         (PerceptualLoss, c.foreground.perceptual)):
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        assert [f.name for f in fields(section)] == params


def test_tiny_config_builds_every_stage():
    c = load_config("tiny")
    for entry in STAGES.values():
        networks = entry.task_class().build_networks(c)
        assert networks and all(sum(p.numel() for p in n.parameters()) < 300_000 for n in networks.values())


def test_unknown_config_name_lists_the_known_ones():
    with pytest.raises(UserError, match=r"unknown config 'huge'; known: .*paper, tiny"):
        load_config("huge")


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_config(str(tmp_path / "mine.yaml"))


@pytest.mark.parametrize("text, message", [
    ("parsing: {network: {ngff: 8}}", r"unknown key config\.parsing\.network\.ngff; known keys .*ngf"),
    ("colour: red", r"unknown key config\.colour"),
    ("parsing: {network: {ngf: eight}}", r"config\.parsing\.network\.ngf: expected an integer"),
    ("flow: {network: {channels: 8}}", r"config\.flow\.network\.channels: expected a list"),
    ("train: {channels_last: 1}", r"expected true or false"),
    ("fusion: {schedule: {steps: 5, epochs: 2}}", r"exactly one of steps and epochs"),
    ("foreground: {parsing_input: predicted}", r"parsing_input must be one of ground_truth, generated"),
    ("data: [1, 2]", r"config\.data: expected a mapping"),
    ("fusion: {clip_length: 1}", r"fusion\.clip_length must be at least 2, got 1"),
    ("baseline: {generator: {previous_frames: -1}}", r"baseline\.generator\.previous_frames must be 0 or more"),
    ("train: {threads: -1}", r"train\.threads must not be negative"),
    ("parsing: {network: {num_labels: 19}}",
     r"parsing\.network\.num_labels must be 20, got 19: the data fixes it \(the 20 LIP parsing labels\)"),
    ("foreground: {discriminator: {num_labels: 21}}", r"foreground\.discriminator\.num_labels must be 20.*data fixes"),
    ("flow: {network: {pose_channels: 36}}", r"flow\.network\.pose_channels must be 35, got 36: the data fixes it"),
    ("baseline: {discriminator: {pose_channels: 18}}", r"baseline\.discriminator\.pose_channels must be 35"),
])
def test_bad_configs_are_one_line_errors(text, message):
    with pytest.raises(UserError, match=message) as info:
        parse_config(text)
    assert "\n" not in str(info.value)


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("parsing:\n  optimizer: {lr: 1e-3, beta: [0.5, 0.9]}\n")
    with pytest.raises(UserError, match=r"mine\.yaml: unknown key config\.parsing\.optimizer\.beta"):
        load_config(str(path))


def test_numbers_without_a_dot_and_defaults():
    c = parse_config("parsing: {optimizer: {lr: 1e-3}}")
    assert c.parsing.optimizer.lr == 1e-3 and c.parsing.optimizer.betas == (0.5, 0.999)
    assert c.data.size == 448  # left out: the paper-scale default


def test_resolved_config_round_trips():
    for name in known_configs():
        c = load_config(name)
        text = dump_config(c)
        assert parse_config(text) == c
        assert yaml.safe_load(text) == to_dict(c)


def test_what_may_change_on_resume():
    saved = load_config("tiny")
    current = load_config("tiny")
    current.parsing.schedule.steps = 10_000
    current.train.log_every = 1
    current.fusion.optimizer.lr = 0.5  # another stage's section
    assert config_difference(saved, current, "parsing") is None
    current.parsing.optimizer.lr = 1e-3
    assert config_difference(saved, current, "parsing") == "parsing.optimizer.lr: 0.0002 -> 0.001"
    current = load_config("tiny")
    current.data.size = 128
    assert config_difference(saved, current, "flow").startswith("data.size")
    current = load_config("tiny")
    current.foreground.generator.channels = (8, 8)
    assert "foreground.generator.channels" in config_difference(saved, current, "foreground")
    assert asdict(saved) == asdict(load_config("tiny"))
