"""CPF-Net's three stages (paper III-B to III-D), one package each: network.py (networks and their config
dataclasses), losses.py (loss functions returning dicts of weighted terms and their config dataclasses),
config.py (the stage's config section, its `validate`, and the function building its inference networks)
and task.py (its training, cpfnet.training).

    parsing     stage 1   ParsingGenerator                          parsing_loss
    flow        stage 2a  FlowRegressor                             flow_loss, flow_metrics
    foreground  stage 2b  ForegroundGenerator, ForegroundDiscriminator  foreground_generator_loss,
                                                                        foreground_discriminator_loss
    fusion      stage 3   FusionNet                                 fusion_loss

`registry` names every stage (the baselines of cpfnet.baselines too) and `weights` loads trained ones from a
RUNS folder for inference.
"""
