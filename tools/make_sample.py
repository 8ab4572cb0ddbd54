"""Make the built-in sample micrograph shipped in ``nanosizer/data``.

    python tools/make_sample.py

Renders a 1024x768 synthetic SEM image of agglomerated particles (median 60 nm, 2.5 nm/px) with
a burnt-in info bar, and stores it as an ImageJ TIFF whose calibration nanosizer reads back, plus
its exact instance labels (``sample_sem_labels.tif``) for tests and demonstrations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from nanosizer.synth import (
    ArrangementConfig,
    ImagingConfig,
    OverlayConfig,
    ParticleConfig,
    SynthConfig,
    generate,
)

PIXEL_NM = 2.5
OUT = Path(__file__).resolve().parents[1] / "src" / "nanosizer" / "data"


def sample_config() -> SynthConfig:
    """The sample's scene: TiO2-like faceted and rounded particles in touching agglomerates."""
    return SynthConfig(
        size=(768, 1024),
        particles=ParticleConfig(
            median_nm=60.0, gsd=1.25, pixel_size_nm=PIXEL_NM,
            shapes=(("sphere", 1.0), ("crystal", 1.0), ("irregular", 1.0), ("ellipse", 0.5)),
        ),
        arrangement=ArrangementConfig(coverage=0.25, cluster_fraction=0.7, cluster_size=6.0),
        imaging=ImagingConfig(modality="sem"),
        overlay=OverlayConfig(infobar=0.07),
    )


def _draw_scale_bar(image: np.ndarray, length_nm: float = 200.0) -> None:
    """Burn a true scale bar (``length_nm`` long) into the info bar's right end, in place."""
    from PIL import Image, ImageDraw, ImageFont

    h, w = image.shape
    bar_px = int(round(length_nm / PIXEL_NM))
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    x1, y = w - 40, h - 18
    draw.rectangle([x1 - bar_px, y, x1, y + 3], fill=255)
    font = ImageFont.load_default(size=18)
    draw.text((x1 - bar_px, y - 24), f"{length_nm:g} nm", fill=255, font=font)
    image[:] = np.asarray(canvas)


def main() -> None:
    sample = generate(sample_config(), np.random.default_rng(20261124))
    image = np.clip(np.round(sample.image * 255), 0, 255).astype(np.uint8)
    _draw_scale_bar(image)
    OUT.mkdir(parents=True, exist_ok=True)
    res = 1.0 / PIXEL_NM  # pixels per nm
    tifffile.imwrite(
        OUT / "sample_sem.tif", image, imagej=True, resolution=(res, res),
        metadata={"unit": "nm"}, compression="zlib",
    )
    tifffile.imwrite(OUT / "sample_sem_labels.tif", sample.labels.astype(np.uint16),
                     compression="zlib")
    print(f"wrote {OUT / 'sample_sem.tif'}: {int(sample.labels.max())} particles")


if __name__ == "__main__":
    main()
