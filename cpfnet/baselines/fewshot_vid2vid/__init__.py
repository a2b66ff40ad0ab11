"""The few-shot vid2vid baseline (Wang et al., NeurIPS 2019; paper IV-A2), stage `baseline-fewshot-vid2vid`:
network.py (the generator and its config: example encoding, the example and previous-frame warping), spade.py
(SPADE blocks and the label embedding), weight_generation.py (the attention over examples, the generated
SPADE weights), flow.py (the flow network), losses.py, config.py, task.py and pipeline.py, the last two
vid2vid's with this generator."""

from cpfnet.baselines.fewshot_vid2vid.network import FewShotVid2VidGenerator, FewShotVid2VidGeneratorConfig

__all__ = ["FewShotVid2VidGenerator", "FewShotVid2VidGeneratorConfig"]
