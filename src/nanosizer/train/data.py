"""Training and validation data: synthetic micrographs on the fly, or a folder of labelled images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import InputError
from .augment import augment_geometry, augment_intensity, augment_particles, random_crop
from .config import TrainConfig
from .normalize import normalize_image
from .targets import make_targets

__all__ = ["IMAGE_SUFFIXES", "find_pairs", "read_pair", "TrainingSet", "validation_set"]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
_VAL_SEED_OFFSET = 1_000_003


def find_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    """(image, labels) file pairs of a folder with ``images/`` and ``labels/`` (same stems).

    Raises
    ------
    InputError
        Missing sub-folders, no images, or an image without labels.
    """
    folder = Path(folder)
    images_dir, labels_dir = folder / "images", folder / "labels"
    if not images_dir.is_dir() or not labels_dir.is_dir():
        raise InputError(f"training data {folder} needs sub-folders images/ and labels/")
    labels = {p.stem: p for p in labels_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    pairs = []
    for image in sorted(images_dir.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if image.stem not in labels:
            raise InputError(f"image {image} has no labels/{image.stem}.*; add it or remove the image")
        pairs.append((image, labels[image.stem]))
    if not pairs:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {images_dir}")
    return pairs


def read_pair(image_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Grey image (float32) and instance labels (int32) of one training pair."""
    from scipy import ndimage as ndi
    from skimage import io

    image = np.asarray(io.imread(image_path)).astype(np.float32)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    labels = np.asarray(io.imread(labels_path))
    if labels.ndim == 3:
        labels = labels[..., 0]
    if labels.shape != image.shape:
        raise InputError(f"labels {labels_path} have shape {labels.shape}, image {image.shape}")
    if np.unique(labels).size <= 2:  # a binary mask: label its connected components
        labels = ndi.label(labels > 0)[0]
    return image, labels.astype(np.int32)


def _split(n: int, val_samples: int) -> tuple[list[int], list[int]]:
    """Every k-th image to validation (deterministic), at most ``val_samples`` and <= 20 %."""
    n_val = min(val_samples, n // 5)
    if n_val == 0:
        return list(range(n)), []
    val = set(np.linspace(0, n - 1, n_val).round().astype(int).tolist())
    return [i for i in range(n) if i not in val], sorted(val)


class TrainingSet(Dataset):
    """Augmented training crops of one epoch: ``ds[i] -> (x (1, T, T), targets (3, T, T))``.

    Item ``i`` of epoch ``e`` is deterministic in ``(config.seed, e, i)``, whatever the number
    of DataLoader workers.  Synthetic data are fresh images (at least 256 x 256, so particle
    sizes do not depend on the tile) every epoch; ``config.crops_per_image`` consecutive items
    are crops of the same image.
    """

    def __init__(self, config: TrainConfig, epoch: int) -> None:
        self.config, self.epoch = config, int(epoch)
        self._cached: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None
        self.pairs: list[tuple[Path, Path]] | None = None
        if config.data is not None:
            pairs = find_pairs(config.data)
            train, _ = _split(len(pairs), config.val_samples)
            self.pairs = [pairs[i] for i in train]

    def __len__(self) -> int:
        return self.config.samples_per_epoch

    def _source(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        if self.pairs is not None:
            return read_pair(*self.pairs[int(rng.integers(len(self.pairs)))])
        from ..synth import SyntheticDataset

        per_epoch = -(-c.samples_per_epoch // c.crops_per_image)
        item = self.epoch * per_epoch + index // c.crops_per_image
        if self._cached is None or self._cached[0] != item:
            synth = SyntheticDataset(length=item + 1, size=(c.synth_side,) * 2,
                                     modality=c.modality, seed=c.seed,
                                     outlines_dir=c.outlines_dir, particle_px=c.particle_px,
                                     p_agglomerate=c.p_agglomerate,
                                     agglomerate_px=c.agglomerate_px)
            self._cached = (item, synth[item])
        return self._cached[1]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        rng = np.random.default_rng([c.seed, self.epoch, index, 7])
        image, labels = self._source(index, rng)
        image, labels = random_crop(image, labels, c.tile, rng, c.scale_range)
        image, labels = augment_geometry(image, labels, rng)
        if c.p_texture > 0 and rng.random() < c.p_texture:
            image = augment_particles(image, labels, rng)
        image = normalize_image(augment_intensity(image, rng, c.p_invert))
        targets = make_targets(labels, c.contact_width, offsets=c.centre_offsets)
        return torch.from_numpy(image)[None], torch.from_numpy(targets)


def validation_set(config: TrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """The fixed validation set: normalised images (H, W) and their instance labels.

    Synthetic: ``val_samples`` images of ``config.synth_side`` px square from a seed disjoint
    from training.
    Folder: up to ``val_samples`` (and at most 20 %) of the images, held out from training.
    """
    if config.data is not None:
        pairs = find_pairs(config.data)
        _, val = _split(len(pairs), config.val_samples)
        items = [read_pair(*pairs[i]) for i in val]
    else:
        from ..synth import SyntheticDataset

        synth = SyntheticDataset(
            length=config.val_samples, size=(config.synth_side,) * 2, modality=config.modality,
            seed=config.seed + _VAL_SEED_OFFSET, outlines_dir=config.outlines_dir,
            particle_px=config.particle_px, p_agglomerate=config.p_agglomerate,
            agglomerate_px=config.agglomerate_px,
        )
        items = [synth[i] for i in range(len(synth))]
    return [(normalize_image(image), labels.astype(np.int32)) for image, labels in items]
