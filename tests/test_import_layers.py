"""The layers' import rules (docs/architecture.md), checked in fresh interpreters."""

import json
import subprocess
import sys

import pytest


def _modules_after(code: str) -> list[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_reading_measuring_and_classical_segmentation_never_import_torch():
    mods = _modules_after(
        "import nanosizer\n"
        "from nanosizer.data import sample_path\n"
        "from nanosizer.io import read_micrograph\n"
        "from nanosizer.segment import segment\n"
        "from nanosizer.measure import measure_particles\n"
        "import nanosizer.stats, nanosizer.report.overlay\n"
        "m = read_micrograph(sample_path())\n"
        "lab = segment(m, 'classical')\n"
        "measure_particles(lab, pixel_size=m.pixel_size)\n")
    assert "torch" not in mods
    assert not [m for m in mods if m.startswith(("nanosizer.train", "nanosizer.nn"))]


def test_cnn_segmentation_never_imports_the_training_package():
    pytest.importorskip("torch")
    mods = _modules_after(
        "from nanosizer.data import sample_path\n"
        "from nanosizer.io import read_micrograph\n"
        "from nanosizer.segment.cnn import segment_cnn\n"
        "segment_cnn(read_micrograph(sample_path()), 'unet')\n")
    assert "torch" in mods
    assert not [m for m in mods if m.startswith(("nanosizer.train", "nanosizer.adapt"))]


def test_reports_import_matplotlib_only_when_drawing():
    mods = _modules_after(
        "import nanosizer, nanosizer.report, nanosizer.pipeline\n"
        "import nanosizer.report.run_report, nanosizer.report.comparison_report\n"
        "import nanosizer.report.checks, nanosizer.cli.main\n"
        "nanosizer.cli.main.build_parser()\n")
    assert not [m for m in mods if m.startswith("matplotlib")]


def test_a_classical_analysis_with_its_report_never_imports_scipy_stats(tmp_path):
    mods = _modules_after(
        "from nanosizer import analyze\n"
        "from nanosizer.data import sample_path\n"
        "from nanosizer.pipeline import AnalyzeConfig\n"
        f"analyze([sample_path()], {str(tmp_path / 'out')!r}, AnalyzeConfig(method='classical'))\n")
    assert "scipy.stats" not in mods
    assert "matplotlib" in mods  # the histogram and report figures were drawn
