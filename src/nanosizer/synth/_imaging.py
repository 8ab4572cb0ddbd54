"""Image formation: SEM / TEM / TSEM contrast, then the microscope's imperfections."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._config import ImagingConfig
from ._scene import Scene

__all__ = ["form_signal", "apply_artefacts", "substrate_texture"]


def _smooth_noise(shape, sigma, rng) -> np.ndarray:
    """Zero-mean, unit-std Gaussian-filtered white noise (float32).

    Large ``sigma`` is filtered on a coarser grid and zoomed up (same look, much faster).
    """
    f = max(int(sigma // 3), 1)
    small = (-(-shape[0] // f), -(-shape[1] // f))
    n = ndimage.gaussian_filter(rng.standard_normal(small, dtype=np.float32), sigma / f)
    if f > 1:
        n = ndimage.zoom(n, f, order=1)[: shape[0], : shape[1]]
    return n / (n.std() + 1e-6)


def substrate_texture(shape, scale_px: float, rng: np.random.Generator) -> np.ndarray:
    """Substrate/film texture: fine grain, soft blobs and faint blob outlines, mean ~0."""
    grain = _smooth_noise(shape, 0.7, rng)
    blobs = _smooth_noise(shape, max(scale_px * 0.25, 1.5), rng)
    inside = blobs > 1.0
    edge = np.zeros(shape, np.float32)
    edge[:-1] += inside[:-1] != inside[1:]
    edge[:, :-1] += inside[:, :-1] != inside[:, 1:]
    rims = ndimage.gaussian_filter(edge, 0.8, truncate=3)
    return 0.35 * grain + 0.3 * blobs + 0.6 * rims


def _sem(scene: Scene, cfg: ImagingConfig, tex, rng, scale_px) -> np.ndarray:
    """Secondary-electron yield: tilt (edge effect), detector shading, shadowed gaps."""
    inside = scene.labels > 0
    h = scene.height
    tilt = ndimage.gaussian_filter(np.minimum(scene.tilt, 2.0), 0.6)
    gy, gx = np.gradient(ndimage.gaussian_filter(h, 1.0))
    angle = rng.uniform(0, 2 * np.pi)
    shade = (gx * np.cos(angle) + gy * np.sin(angle)) / np.sqrt(1 + gx * gx + gy * gy)
    concave = ndimage.gaussian_filter(h, float(np.clip(scale_px * 0.12, 1.0, 6.0)), truncate=3) - h
    concave = np.clip(concave, 0, None) / max(scale_px * 0.1, 1.0)
    bg = cfg.substrate * (1 + 0.5 * cfg.substrate_texture * tex)
    grain = 1 + cfg.particle_texture * _smooth_noise(scene.labels.shape, 1.2, rng)
    part = (cfg.substrate + cfg.particle_contrast * scene.material) * grain
    part = part * (1 + cfg.shading * shade) * (1 + cfg.edge_strength * tilt)
    out = np.where(inside, part, bg)
    return out * np.exp(-cfg.gap_darkening * concave)


def _transmission(scene: Scene, cfg: ImagingConfig, tex, scale_px) -> np.ndarray:
    film = 0.85 * (1 + 0.15 * cfg.substrate_texture * tex)
    t = scene.thickness * (2.0 - scene.material) / max(scale_px, 1.0)
    if cfg.modality == "tem":
        out = film * np.exp(-3.0 * cfg.particle_contrast * t)
    else:
        out = film * (1 - min(cfg.particle_contrast, 0.97) * (1 - np.exp(-4.0 * t)))
    if cfg.fringe > 0:
        union = (scene.labels > 0).astype(np.float32)
        ring = ndimage.gaussian_filter(union, 0.8) - ndimage.gaussian_filter(union, 2.0)
        out = out - cfg.fringe * ring
    return out


def form_signal(scene: Scene, cfg: ImagingConfig, scale_px: float, rng) -> np.ndarray:
    """Noise-free signal (float32 (H, W), roughly 0..1) of a scene in the chosen modality.

    Parameters
    ----------
    scene : Scene
        Painted particle maps.
    cfg : ImagingConfig
        Contrast parameters.
    scale_px : float
        Typical particle size in px (sets texture and gap scales).
    rng : numpy.random.Generator
    """
    tex = substrate_texture(scene.labels.shape, scale_px, rng)
    if cfg.modality == "sem":
        return _sem(scene, cfg, tex, rng, scale_px).astype(np.float32)
    return _transmission(scene, cfg, tex, scale_px).astype(np.float32)


def _drift(image, labels, amplitude, rng):
    """Shift each row by a smooth random amount (integer px), image and labels alike."""
    h, w = image.shape
    walk = ndimage.gaussian_filter1d(rng.standard_normal(h), h / 16)
    walk = walk / (np.abs(walk).max() + 1e-9) * amplitude
    shift = np.round(walk).astype(int)
    cols = np.clip(np.arange(w)[None, :] - shift[:, None], 0, w - 1)
    rows = np.arange(h)[:, None]
    return image[rows, cols], labels[rows, cols]


def _charging(image, labels, strength, rng):
    """Bright horizontal streaks trailing to the right of charged particles."""
    rows = rng.random(image.shape[0]) < 0.08
    src = np.zeros_like(image)
    src[rows] = (labels[rows] > 0) * strength * rng.uniform(0.3, 1.0, (rows.sum(), 1))
    return image + _streaks(src).astype(np.float32)


def _streaks(src: np.ndarray, gain: float = 0.05, decay: float = 0.95) -> np.ndarray:
    """``y[:, n] = gain * src[:, n] + decay * y[:, n - 1]`` along each row (a one-pole filter,
    scipy.signal.lfilter([gain], [1, -decay]) without importing scipy.signal), on the rows that
    have any signal."""
    out = np.zeros(src.shape, dtype=np.float64)
    rows = np.flatnonzero(src.any(axis=1))
    if rows.size:
        x = src[rows].astype(np.float64) * gain
        acc = np.zeros(rows.size)
        y = np.empty_like(x)
        for n in range(x.shape[1]):
            acc = x[:, n] + decay * acc
            y[:, n] = acc
        out[rows] = y
    return out


def _dust(shape, amount, rng) -> np.ndarray:
    """Unlabelled specks and contamination blobs (signed intensity map)."""
    h, w = shape
    n = rng.poisson(amount * h * w / 65536)
    out = np.zeros(shape, np.float32)
    if n:
        r, c = rng.integers(0, h, n), rng.integers(0, w, n)
        out[r, c] = rng.uniform(-1, 1, n) * rng.uniform(5, 30, n)
        out = ndimage.gaussian_filter(out, rng.uniform(0.8, 2.5))
    return out


def _match_levels(img, labels, levels):
    """Linear grey map putting background and particle medians at ``levels``."""
    fg = labels > 0
    if not fg.any() or fg.all():
        return np.clip(img, 0, 1)
    bg_now, fg_now = float(np.median(img[~fg][::7])), float(np.median(img[fg][::3]))
    gain = (levels[1] - levels[0]) / (fg_now - bg_now if abs(fg_now - bg_now) > 1e-3 else 1e-3)
    return np.clip((img - bg_now) * gain + levels[0], 0, 1)


def apply_artefacts(signal_, labels, cfg: ImagingConfig, rng):
    """Drift, illumination, dust, charging, blur, noise and grey-level mapping.

    Returns
    -------
    image : (H, W) ndarray of float32 in [0, 1]
    labels : (H, W) ndarray of int32
        The labels moved by the same scan drift as the image.
    """
    img = signal_
    if cfg.drift_px > 0:
        img, labels = _drift(img, labels, cfg.drift_px, rng)
    h, w = img.shape
    if cfg.illumination > 0:
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        a = rng.normal(0, 0.5, 5).astype(np.float32)
        field = a[0] * yy + a[1] * xx + a[2] * yy * xx + a[3] * yy * yy + a[4] * xx * xx
        img = img * (1 + cfg.illumination * field)
    if cfg.dust > 0:
        img = img + 0.1 * _dust(img.shape, cfg.dust, rng)
    if cfg.charging > 0:
        img = _charging(img, labels, cfg.charging, rng)
    if cfg.blur_px > 0:
        img = ndimage.gaussian_filter(img, cfg.blur_px)
    img = np.clip(img, 0, None)
    # shot noise (Gaussian approximation of Poisson; >= 16 counts at the mean) + read noise
    scale = cfg.snr**2 / max(float(img.mean()), 1e-3)
    sigma = np.sqrt(img / scale + cfg.read_noise**2)
    img = img + sigma * rng.standard_normal(img.shape, dtype=np.float32)
    if cfg.scanline_noise > 0:
        img = img + rng.normal(0, cfg.scanline_noise, (h, 1)).astype(np.float32)
    lo, hi = np.percentile(img[::3, ::3], [0.5, 99.8])
    img = (img - lo) / max(hi - lo, 1e-6)
    if cfg.levels is not None:
        img = _match_levels(img, labels, cfg.levels)
    else:
        img = (img - 0.5) * cfg.contrast + 0.5 + cfg.brightness
        img = np.clip(img, 0, 1) ** cfg.gamma
    if cfg.invert:
        img = 1 - img
    return img.astype(np.float32), labels
