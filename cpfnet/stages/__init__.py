"""CPF-Net's three stages (paper III-B to III-D), one package each: network.py (networks and their config
dataclasses) and losses.py (loss functions returning dicts of weighted terms and their config dataclasses).

    parsing     stage 1   ParsingGenerator                          parsing_loss
    flow        stage 2a  FlowRegressor                             flow_loss, flow_metrics
    foreground  stage 2b  ForegroundGenerator, ForegroundDiscriminator  foreground_generator_loss,
                                                                        foreground_discriminator_loss
    fusion      stage 3   FusionNet                                 fusion_loss
"""

STAGES = ("parsing", "flow", "foreground", "fusion")
