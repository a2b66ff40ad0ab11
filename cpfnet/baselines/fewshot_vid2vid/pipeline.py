"""Transfer with the few-shot vid2vid baseline (IV-A2): vid2vid's sequential pipeline
(`cpfnet.baselines.vid2vid.pipeline`) with the few-shot generator, I_a and its pose being the one example."""

from __future__ import annotations

from cpfnet.baselines.vid2vid.pipeline import Vid2VidPipeline


class FewShotVid2VidPipeline(Vid2VidPipeline):
    """Loads RUNS/baseline-fewshot-vid2vid (the registry names this class's stage)."""
