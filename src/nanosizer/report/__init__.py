"""Figures of a run: size histograms and method comparisons (:mod:`.plots`, matplotlib) and
outline overlays (:mod:`.overlay`, NumPy only).

Submodules are imported on first attribute access, so importing ``nanosizer.report`` does not
load matplotlib.
"""

from __future__ import annotations

import importlib

__all__ = ["label_overlay", "plot_distributions", "plot_size_histogram", "to_uint8"]

_WHERE = {
    "plot_size_histogram": ".plots",
    "plot_distributions": ".plots",
    "label_overlay": ".overlay",
    "to_uint8": ".overlay",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
