"""Size statistics: number-weighted distributions and the EU nanomaterial screen."""

from ._distribution import SizeDistribution, bootstrap_ci, size_distribution
from ._eu import EUScreen, clopper_pearson, eu_nanomaterial_screen

__all__ = [
    "EUScreen",
    "SizeDistribution",
    "bootstrap_ci",
    "clopper_pearson",
    "eu_nanomaterial_screen",
    "size_distribution",
]
