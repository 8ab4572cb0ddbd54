"""Settings of an ``analyze`` run."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["AnalyzeConfig", "MEASURES"]

# Size measure name -> human-readable axis label (unit appended by the report).
MEASURES: dict[str, str] = {
    "feret_min": "minimum Feret diameter",
    "feret_max": "maximum Feret diameter",
    "ecd": "equivalent circular diameter",
}


@dataclass(frozen=True)
class AnalyzeConfig:
    """How to turn micrographs into a size distribution.

    Parameters
    ----------
    method : str
        Segmentation method: ``'unet'`` (default, shipped model), ``'multiresunet'`` or
        ``'classical'``.
    model : str or None
        Model folder for the CNN methods; None uses the shipped model of ``method``.
    measure : {'feret_min', 'feret_max', 'ecd'}
        Size measure of the distribution (the EU definition uses the minimum Feret diameter).
    pixel_size : str or None
        Override of every image's pixel size, e.g. ``"7.34 nm"``; None reads it from the file.
    infobar : 'auto', 'none' or int
        Info-bar handling: detect it, ignore it, or exclude the rows from this index on.
    scale_bar : {'auto', 'always', 'none'}
        Read the scale bar burnt into images that have neither ``pixel_size`` nor metadata:
        it calibrates them and is left out of the segmentation (``'auto'``, default); read it
        on every image, also to check the metadata (``'always'``); or never (``'none'``).
    include_border : bool
        Keep particles touching the image border or info bar in the statistics.
    min_area_px : int
        Particles smaller than this (in pixels) are dropped after segmentation.
    zoom : float or None
        CNN methods: scale applied before the network (below 1 for particles much larger than
        the model's training range); None chooses it automatically.
    decoder : str or None
        CNN methods: instance decoder other than the model's own (``'watershed'``,
        ``'centres'``, ``'hybrid'``); None uses the model's.
    n_boot : int
        Bootstrap resamples for the confidence intervals.
    ci : float
        Confidence level of all intervals.
    seed : int
        Seed of the bootstrap.
    excel : bool
        Also write ``results.xlsx``.
    overlays : bool
        Write ``overlays/<stem>.png``.
    overlay_ids : bool
        Also print each particle's id (its ``label`` in ``particles.csv``) in the overlays;
        off by default, so the numbers do not hide small particles.
    report : bool
        Write ``report.html`` (one self-contained page of the results).
    roi : bool
        Also write ``rois/<stem>.zip``: every particle's outline as an ImageJ ROI, for Fiji's
        ROI Manager (names ``<label:04d>``, the ``label`` of ``particles.csv``).
    max_pixels : int or None
        Images larger than this (height x width) are refused from their header, before
        decoding (default 2**28 px, which fits a 24 GB machine); None: no limit.
    """

    method: str = "unet"
    model: str | None = None
    measure: str = "feret_min"
    pixel_size: str | None = None
    infobar: str | int = "auto"
    scale_bar: str = "auto"
    include_border: bool = False
    min_area_px: int = 0
    zoom: float | None = None
    decoder: str | None = None
    n_boot: int = 2000
    ci: float = 0.95
    seed: int = 0
    excel: bool = False
    overlays: bool = True
    overlay_ids: bool = False
    report: bool = True
    roi: bool = False
    max_pixels: int | None = 2**28

    def __post_init__(self) -> None:
        from ..segment import METHODS

        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == "classical" and self.model is not None:
            raise ValueError(f"model {self.model!r} is for the CNN methods but method is "
                             "'classical'; drop the model or choose method 'unet'")
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        if not (isinstance(self.infobar, int) or self.infobar in ("auto", "none")):
            raise ValueError(f"infobar must be 'auto', 'none' or a row index, got {self.infobar!r}")
        if self.scale_bar not in ("auto", "always", "none"):
            raise ValueError("scale_bar must be 'auto', 'always' or 'none', "
                             f"got {self.scale_bar!r}")
        if self.decoder is not None:
            from ..segment.instances import DECODERS

            if self.decoder not in DECODERS:
                raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, "
                                 f"got {self.decoder!r}")
        if self.decoder is not None and self.method == "classical":
            raise ValueError("decoder is for the CNN methods; drop it or choose method 'unet'")
        if self.zoom is not None and not 0.05 <= self.zoom <= 4:
            raise ValueError(f"zoom must be between 0.05 and 4, got {self.zoom}")
        if self.min_area_px < 0 or self.n_boot < 0 or not 0 < self.ci < 1:
            raise ValueError("min_area_px and n_boot must be >= 0 and ci in (0, 1)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")
        if self.max_pixels is not None and (isinstance(self.max_pixels, bool) or not isinstance(
                self.max_pixels, int) or self.max_pixels < 64):
            raise ValueError(f"max_pixels must be a whole number of pixels >= 64 (or None), "
                             f"got {self.max_pixels!r}")

    def to_dict(self) -> dict:
        """JSON-ready settings for run.json."""
        return asdict(self)
