"""Figures and pages of a run: size histograms and method comparisons (:mod:`.plots`,
matplotlib), outline overlays (:mod:`.overlay`, NumPy only) and the self-contained
``report.html`` of ``analyze`` (:mod:`.run_report`, with :mod:`.checks`) and of
``compare`` (:mod:`.comparison_report`).

Submodules are imported on first attribute access, so importing ``nanosizer.report`` does not
load matplotlib.
"""

from __future__ import annotations

import importlib

__all__ = [
    "label_overlay", "plot_cumulative", "plot_distributions", "plot_size_histogram",
    "run_warnings", "to_uint8", "write_comparison_report", "write_run_report",
]  # fmt: skip

_WHERE = {
    "plot_size_histogram": ".plots",
    "plot_distributions": ".plots",
    "plot_cumulative": ".plots",
    "run_warnings": ".checks",
    "write_run_report": ".run_report",
    "write_comparison_report": ".comparison_report",
    "label_overlay": ".overlay",
    "to_uint8": ".overlay",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
