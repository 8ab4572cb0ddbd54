"""The ``analyze`` workflow: files -> labels -> particle table -> size distribution -> report."""

from .config import MEASURES, AnalyzeConfig
from .run import AnalysisResult, ImageRecord, analyze, analyze_image

__all__ = ["AnalyzeConfig", "AnalysisResult", "ImageRecord", "MEASURES", "analyze", "analyze_image"]
