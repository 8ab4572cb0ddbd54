"""Configuration of the synthetic micrograph engine: frozen, validated dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import choices

__all__ = [
    "SHAPES",
    "CLUSTER_MODES",
    "MODALITIES",
    "ParticleConfig",
    "ArrangementConfig",
    "ImagingConfig",
    "OverlayConfig",
    "SynthConfig",
]

SHAPES: tuple[str, ...] = (
    "sphere",
    "ellipse",
    "polygon",
    "rounded_polygon",
    "crystal",
    "cube",
    "rod",
    "plate",
    "irregular",
    "outline",
)
CLUSTER_MODES: tuple[str, ...] = ("compact", "chain", "random", "lattice")
MODALITIES: tuple[str, ...] = choices.MODALITIES


def _check_range(name: str, pair: tuple[float, float], lo: float, hi: float) -> None:
    if len(pair) != 2 or not (lo <= pair[0] <= pair[1] <= hi):
        raise ValueError(f"{name} must be (low, high) with {lo} <= low <= high <= {hi}, got {pair}")


def _check_weights(name: str, weights: tuple[tuple[str, float], ...], valid: tuple[str, ...]):
    if not weights:
        raise ValueError(f"{name} must name at least one entry of {', '.join(valid)}")
    for key, w in weights:
        if key not in valid:
            raise ValueError(f"unknown {name} entry {key!r}; choose from {', '.join(valid)}")
        if w < 0:
            raise ValueError(f"{name} weight of {key!r} must be >= 0, got {w}")
    if sum(w for _, w in weights) <= 0:
        raise ValueError(f"{name} weights must not all be zero")


@dataclass(frozen=True)
class ParticleConfig:
    """What the particles look like.

    Parameters
    ----------
    median_nm : float
        Median of the lognormal distribution of the particles' true minimum Feret diameter.
    gsd : float
        Geometric standard deviation of that distribution (1 = monodisperse).
    pixel_size_nm : float
        Pixel size used to convert nm to pixels.
    shapes : tuple of (name, weight)
        Shape families (see :data:`SHAPES`) and their relative frequency.
    aspect_range : (float, float)
        Max/min Feret ratio range for ellipses, polygons, crystals and plates.
    rod_aspect_range : (float, float)
        Length/width ratio range for rods and wires.
    roughness : float
        Amplitude of the Fourier perturbation of ``irregular`` outlines (0..0.5).
    outlines_dir : str or None
        Folder of binary outline images for the ``outline`` shape family.
    brightness_spread : float
        Relative standard deviation of the per-particle material brightness.
    """

    median_nm: float = 50.0
    gsd: float = 1.2
    pixel_size_nm: float = 2.0
    shapes: tuple[tuple[str, float], ...] = (("sphere", 1.0),)
    aspect_range: tuple[float, float] = (1.0, 1.5)
    rod_aspect_range: tuple[float, float] = (2.5, 8.0)
    roughness: float = 0.1
    outlines_dir: str | None = None
    brightness_spread: float = 0.08

    def __post_init__(self) -> None:
        if not (self.median_nm > 0 and self.pixel_size_nm > 0):
            raise ValueError("median_nm and pixel_size_nm must be > 0")
        if not 1.0 <= self.gsd <= 3.0:
            raise ValueError(f"gsd must be in [1, 3], got {self.gsd}")
        _check_weights("shapes", self.shapes, SHAPES)
        _check_range("aspect_range", self.aspect_range, 1.0, 20.0)
        _check_range("rod_aspect_range", self.rod_aspect_range, 1.0, 100.0)
        if not 0 <= self.roughness <= 0.5:
            raise ValueError(f"roughness must be in [0, 0.5], got {self.roughness}")
        if any(s == "outline" and w > 0 for s, w in self.shapes) and not self.outlines_dir:
            raise ValueError("the 'outline' shape needs outlines_dir (a folder of binary images)")
        if not 0 <= self.brightness_spread <= 1:
            raise ValueError(f"brightness_spread must be in [0, 1], got {self.brightness_spread}")

    @property
    def median_px(self) -> float:
        """Median minimum Feret in pixels."""
        return self.median_nm / self.pixel_size_nm


@dataclass(frozen=True)
class ArrangementConfig:
    """Where the particles go.

    Parameters
    ----------
    coverage : float
        Target fraction of the image area covered by particles (before occlusion).
    cluster_fraction : float
        Fraction of particles that belong to agglomerates; the rest are isolated.
    cluster_size : float
        Mean number of particles per agglomerate (geometric distribution).
    cluster_modes : tuple of (name, weight)
        Agglomerate growth modes (see :data:`CLUSTER_MODES`): ``compact`` attaches to the
        cluster centre, ``chain`` extends the last particle, ``random`` attaches to any member,
        ``lattice`` fills an ordered hexagonal or square patch (for monodisperse particles).
    gap_range : (float, float)
        Centre distance of attached particles relative to touching (1 = touching,
        < 1 = partial overlap, the front particle owning the shared pixels).
    sinter : float
        Probability that a contact gets a sintered neck.
    max_particles : int
        Hard cap on the particle count of one image.
    """

    coverage: float = 0.2
    cluster_fraction: float = 0.5
    cluster_size: float = 6.0
    cluster_modes: tuple[tuple[str, float], ...] = (
        ("compact", 1.0), ("chain", 1.0), ("random", 1.0))
    gap_range: tuple[float, float] = (0.85, 1.0)
    sinter: float = 0.0
    max_particles: int = 400

    def __post_init__(self) -> None:
        if not 0 < self.coverage <= 0.9:
            raise ValueError(f"coverage must be in (0, 0.9], got {self.coverage}")
        if not 0 <= self.cluster_fraction <= 1:
            raise ValueError(f"cluster_fraction must be in [0, 1], got {self.cluster_fraction}")
        if self.cluster_size < 1:
            raise ValueError(f"cluster_size must be >= 1, got {self.cluster_size}")
        _check_weights("cluster_modes", self.cluster_modes, CLUSTER_MODES)
        _check_range("gap_range", self.gap_range, 0.3, 2.0)
        if not 0 <= self.sinter <= 1:
            raise ValueError(f"sinter must be in [0, 1], got {self.sinter}")
        if self.max_particles < 1:
            raise ValueError(f"max_particles must be >= 1, got {self.max_particles}")


@dataclass(frozen=True)
class ImagingConfig:
    """How the microscope turns the scene into grey values.

    Parameters
    ----------
    modality : {'sem', 'tem', 'tsem'}
        Contrast model: secondary electrons, TEM bright field, transmission SEM.
    substrate : float
        Background signal level (0..1) before contrast stretching.
    substrate_texture : float
        Amplitude of the substrate/film texture (blobs, amorphous grain).
    particle_contrast : float
        SEM: particle brightness over the substrate; TEM/TSEM: absorption strength.
    particle_texture : float
        Relative amplitude of the mottled texture inside particles.
    edge_strength : float
        SEM edge effect: brightening with surface tilt (bright rims).
    shading : float
        SEM detector-direction shading strength.
    gap_darkening : float
        SEM darkening of concave places (gaps between touching particles).
    fringe : float
        TEM Fresnel fringe amplitude at particle edges.
    blur_px : float
        Probe blur (Gaussian sigma in pixels).
    snr : float
        Signal-to-noise ratio of the shot noise at mean intensity.
    read_noise : float
        Additive Gaussian noise standard deviation (fraction of full scale).
    scanline_noise : float
        Standard deviation of per-row offsets.
    drift_px : float
        Amplitude of the horizontal per-row scan drift (applied to image and labels alike).
    illumination : float
        Amplitude of the smooth uneven illumination.
    charging : float
        Strength of horizontal charging streaks behind particles.
    dust : float
        Number of unlabelled dust specks / contamination blobs per 256x256 area.
    gamma : float
        Gamma applied to the final image.
    contrast : float
        Contrast stretch factor around mid-grey.
    brightness : float
        Brightness offset added after the contrast stretch.
    invert : bool
        Invert the final grey values (polarity flip).
    levels : (float, float) or None
        Target median grey of (background, particles); replaces contrast, brightness and
        gamma when given (used by the "like these images" mode).
    """

    modality: str = "sem"
    substrate: float = 0.15
    substrate_texture: float = 0.3
    particle_contrast: float = 0.6
    particle_texture: float = 0.05
    edge_strength: float = 0.5
    shading: float = 0.2
    gap_darkening: float = 0.6
    fringe: float = 0.0
    blur_px: float = 0.8
    snr: float = 12.0
    read_noise: float = 0.01
    scanline_noise: float = 0.0
    drift_px: float = 0.0
    illumination: float = 0.05
    charging: float = 0.0
    dust: float = 0.0
    gamma: float = 1.0
    contrast: float = 1.0
    brightness: float = 0.0
    invert: bool = False
    levels: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.levels is not None and len(self.levels) != 2:
            raise ValueError(f"levels must be (background, particle) or None, got {self.levels}")
        if self.modality not in MODALITIES:
            raise ValueError(
                f"unknown modality {self.modality!r}; choose one of {', '.join(MODALITIES)}"
            )
        for name in ("substrate", "substrate_texture", "particle_contrast", "particle_texture",
                     "edge_strength",
                     "shading", "gap_darkening", "fringe", "blur_px", "read_noise",
                     "scanline_noise", "drift_px", "illumination", "charging", "dust"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.snr <= 0 or self.gamma <= 0 or self.contrast <= 0:
            raise ValueError("snr, gamma and contrast must be > 0")


@dataclass(frozen=True)
class OverlayConfig:
    """Burnt-in annotations (distractors; their pixels are never labelled).

    Parameters
    ----------
    infobar : float
        Height of a microscope info bar at the bottom as a fraction of the image (0 = none).
    scalebar : bool
        Draw a scale bar with a length label.
    panel_label : bool
        Draw a journal-figure panel letter such as ``(b)`` in a corner.
    """

    infobar: float = 0.0
    scalebar: bool = False
    panel_label: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.infobar <= 0.3:
            raise ValueError(f"infobar must be in [0, 0.3], got {self.infobar}")


@dataclass(frozen=True)
class SynthConfig:
    """Everything :func:`nanosizer.synth.generate` needs to draw one micrograph.

    Parameters
    ----------
    size : (int, int)
        Image (height, width) in pixels.
    particles, arrangement, imaging, overlay
        The parts of the configuration (see their classes).
    """

    size: tuple[int, int] = (256, 256)
    particles: ParticleConfig = field(default_factory=ParticleConfig)
    arrangement: ArrangementConfig = field(default_factory=ArrangementConfig)
    imaging: ImagingConfig = field(default_factory=ImagingConfig)
    overlay: OverlayConfig = field(default_factory=OverlayConfig)

    def __post_init__(self) -> None:
        if len(self.size) != 2 or min(self.size) < 16:
            raise ValueError(f"size must be (height, width) with both >= 16, got {self.size}")
