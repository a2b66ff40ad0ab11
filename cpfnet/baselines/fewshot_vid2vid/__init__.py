"""The few-shot vid2vid baseline (Wang et al., NeurIPS 2019; paper IV-A2), stage `baseline-fewshot-vid2vid`:
network.py (the SPADE generator with generated weights, the attention over examples, the example and
previous-frame warping), losses.py, config.py, task.py and pipeline.py, the last two vid2vid's with this
generator."""

from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator, FewShotVid2VidGeneratorConfig

__all__ = ["FewShotVid2VidGenerator", "FewShotVid2VidGeneratorConfig"]
