"""The README's Python API example gives the numbers the command line reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _api_example() -> str:
    text = README.read_text()
    block = re.search(r"Python API:\s*```python\n(.*?)```", text, re.S)
    assert block, "README has no Python API example"
    return block.group(1)


def test_api_example_counts_the_particles_analyze_counts(tmp_path, monkeypatch):
    """Run the example (on the sample, classical method for speed) and compare with analyze."""
    from nanosizer.data import sample_path
    from nanosizer.pipeline import AnalyzeConfig, analyze

    code = _api_example()
    lines = [ln for ln in code.splitlines() if "nanosizer.analyze(" not in ln]
    code = "\n".join(lines).replace('"image.tif"', repr(str(sample_path())))
    assert '"unet"' in code
    code = code.replace('"unet"', '"classical"')
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the README's own example
    cli = analyze([sample_path()], None, AnalyzeConfig(method="classical", n_boot=0))
    pooled = cli.summary.iloc[-1]
    assert namespace["dist"].n == int(pooled["n"])
    assert int(pooled["n"]) < int(pooled["n_detected"])  # the sample has border particles
    assert namespace["dist"].median == pytest.approx(pooled["median"])


def test_public_segment_is_callable_after_its_subpackage_was_imported():
    import numpy as np

    import nanosizer
    import nanosizer.segment  # noqa: F401 - what analyze and many imports do
    from nanosizer.io import Micrograph

    image = np.zeros((32, 32), np.float32)
    image[8:20, 8:20] = 1.0
    labels = nanosizer.segment(Micrograph(image), "classical")
    assert labels.max() == 1 and (labels > 0).sum() > 100
