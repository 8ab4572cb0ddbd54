"""Writing synthetic data sets to disk (images, labels, truth table) in parallel."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._config import SynthConfig
from ._generate import generate
from ._like import ImageStyle, like_config
from ._random import random_config

__all__ = ["Options", "config_for", "write_dataset"]


@dataclass(frozen=True)
class Options:
    """Data-set options shared by every image (None = randomised per image)."""

    size: tuple[int, int] = (256, 256)
    modality: str | None = None
    seed: int = 0
    style: ImageStyle | None = None
    outlines_dir: str | None = None
    pixel_size_nm: float | None = None
    median_nm: float | None = None
    gsd: float | None = None
    coverage: float | None = None
    scale_bars: bool = False


def config_for(index: int, opts: Options) -> tuple[SynthConfig, np.random.Generator]:
    """Configuration of image ``index`` and the generator to render it with."""
    rng = np.random.default_rng([opts.seed, index])
    if opts.style is not None:
        cfg = like_config(rng, opts.style, opts.size, outlines_dir=opts.outlines_dir)
        if opts.modality is not None:
            cfg = dataclasses.replace(
                cfg, imaging=dataclasses.replace(cfg.imaging, modality=opts.modality))
    else:
        cfg = random_config(rng, opts.modality, opts.size, outlines_dir=opts.outlines_dir)
    pc = cfg.particles
    pixel = opts.pixel_size_nm or pc.pixel_size_nm
    median = opts.median_nm or pc.median_px * pixel
    pc = dataclasses.replace(pc, pixel_size_nm=pixel, median_nm=median, gsd=opts.gsd or pc.gsd)
    ac = cfg.arrangement
    if opts.coverage is not None:
        ac = dataclasses.replace(ac, coverage=opts.coverage)
    cfg = dataclasses.replace(cfg, particles=pc, arrangement=ac)
    if opts.scale_bars:  # a distractor bar of random length would contradict the true one
        cfg = dataclasses.replace(cfg, overlay=dataclasses.replace(cfg.overlay, scalebar=False))
    return cfg, rng


def png_calibration(pixel_size_nm: float):
    """PNG text chunk ``pixel_size_nm`` that :func:`nanosizer.read_micrograph` reads back."""
    from PIL.PngImagePlugin import PngInfo

    from ..io import PNG_PIXEL_SIZE_KEY

    info = PngInfo()
    info.add_text(PNG_PIXEL_SIZE_KEY, repr(float(pixel_size_nm)))
    return info


def _write_one(index: int, out: str, opts: Options):
    import tifffile
    from PIL import Image

    cfg, rng = config_for(index, opts)
    sample = generate(cfg, rng)
    name = f"synth_{index:04d}" if index < 10000 else f"synth_{index}"
    img8 = np.round(sample.image * 255).astype(np.uint8)
    bar = None
    if opts.scale_bars:  # the bar is then the only calibration: no PNG pixel-size chunk
        from ._scalebar import draw_scale_bar

        img8, truth_bar = draw_scale_bar(img8, cfg.particles.pixel_size_nm,
                                         np.random.default_rng([opts.seed, index, 19]))
        bar = {"image": name, "pixel_size_nm": cfg.particles.pixel_size_nm,
               **truth_bar.to_dict()}
        Image.fromarray(img8).save(Path(out) / "images" / f"{name}.png")
    else:
        Image.fromarray(img8).save(Path(out) / "images" / f"{name}.png",
                                   pnginfo=png_calibration(cfg.particles.pixel_size_nm))
    dtype = np.uint16 if sample.labels.max() < 65536 else np.uint32
    tifffile.imwrite(Path(out) / "labels" / f"{name}.tif", sample.labels.astype(dtype),
                     compression="zlib")
    truth = sample.truth.copy()
    truth.insert(0, "image", name)
    truth.insert(1, "modality", cfg.imaging.modality)
    truth.insert(2, "pixel_size_nm", cfg.particles.pixel_size_nm)
    return truth, json.dumps({"image": name, **dataclasses.asdict(cfg)}), bar


def write_dataset(out: Path, n: int, opts: Options, *, workers: int = 2,
                  progress: bool = True) -> None:
    """Render ``n`` images into ``out/images``, ``out/labels``, ``out/truth.csv``.

    Each PNG carries its pixel size (text chunk ``pixel_size_nm``), so reading it gives the
    calibration of ``truth.csv``.  With ``opts.scale_bars`` each image instead gets a true
    scale bar (:func:`nanosizer.synth._scalebar.draw_scale_bar`) and no pixel-size chunk, and
    ``out/scale_bars.csv`` lists every bar's label, true length and style.

    Image ``i`` depends only on ``(opts, i)``: the same options give identical files whatever
    the number of workers.  ``out/configs.jsonl`` records every image's configuration.
    """
    import pandas as pd
    from tqdm import tqdm

    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    results: list = [None] * n
    bar = tqdm(total=n, desc="synth", unit="img", disable=not progress)
    if workers <= 1 or n == 1:
        for i in range(n):
            results[i] = _write_one(i, str(out), opts)
            bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_write_one, i, str(out), opts): i for i in range(n)}
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.update()
    bar.close()
    pd.concat([r[0] for r in results], ignore_index=True).to_csv(out / "truth.csv", index=False)
    (out / "configs.jsonl").write_text("\n".join(r[1] for r in results) + "\n")
    if opts.scale_bars:
        pd.DataFrame([r[2] for r in results]).to_csv(out / "scale_bars.csv", index=False)
