"""Transmission twins -> SEM training pairs: registration, masks, splitting, export/import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from nanosizer.adapt.pairs_io import export_pairs, import_pairs, label_colours
from nanosizer.adapt.transmission import (
    TrainingPair,
    TransmissionConfig,
    find_transmission_twins,
    read_trakem2_translation,
    register_translation,
    shift_image,
    split_particles,
    transmission_foreground,
    transmission_pair,
)
from nanosizer.errors import InputError
from nanosizer.io import Micrograph

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bam-tio2"

DISCS = [(30, 30, 10), (30, 49, 10), (80, 90, 12), (100, 30, 8), (60, 120, 9)]


def _scene(shape=(128, 160), discs=DISCS) -> np.ndarray:
    """Bright discs on dark (SEM-like), float in [0, 1]."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for cy, cx, r in discs:
        d = np.hypot(yy - cy, xx - cx)
        img = np.maximum(img, np.clip(r - d, 0, 1) * (0.7 + 0.3 * np.clip(1 - d / r, 0, 1)))
    return img


def _pair(shift, rng=0, shape=(128, 160)):
    rng = np.random.default_rng(rng)
    sem = _scene(shape) + 0.02 * rng.standard_normal(shape)
    # transmission: same field, inverted contrast, content shifted by -shift
    trans = 1.0 - ndi.shift(_scene(shape), (-shift[0], -shift[1]), order=1)
    trans += 0.02 * rng.standard_normal(shape)
    return sem.astype(np.float32), trans.astype(np.float32)


@pytest.mark.parametrize("method", ["intensity", "gradient"])
@pytest.mark.parametrize("shift", [(0.0, 0.0), (3.0, -5.0), (-2.4, 1.7)])
def test_register_synthetic_shift(shift, method):
    sem, trans = _pair(shift)
    dy, dx = register_translation(sem, trans, method=method, upsample=20)
    assert abs(dy - shift[0]) < 0.25 and abs(dx - shift[1]) < 0.25


def test_shift_image_convention_and_valid():
    img = np.zeros((10, 12), np.float32)
    img[2, 3] = 1
    out, valid = shift_image(img, (2, -1), order=0)
    assert out[4, 2] == 1 and out.sum() == 1
    assert valid[2:, :11].all() and not valid[:2].any() and not valid[:, 11].any()


def test_foreground_and_split_touching_discs():
    sem, trans = _pair((0.0, 0.0))
    fg = transmission_foreground(trans, config=TransmissionConfig(min_area=10))
    assert ndi.label(fg)[1] == 4  # two discs touch
    for split in ("sem", "distance"):
        labels = split_particles(fg, sem, TransmissionConfig(split=split))
        assert labels.dtype == np.int32 and labels.max() == 5
        assert labels[30, 30] != labels[30, 49]
    assert split_particles(fg, sem, TransmissionConfig(split="none")).max() == 4
    with pytest.raises(ValueError, match="SEM image"):
        split_particles(fg, None, TransmissionConfig(split="sem"))


def test_transmission_pair_registers_and_crops():
    shift = (2.5, -3.0)
    sem, trans = _pair(shift, shape=(140, 160))
    sem[128:], trans[128:] = 1.0, 0.0  # info bars
    sem_m = Micrograph(sem, infobar_top=128, path=Path("a001.tif"))
    trans_m = Micrograph(trans.copy(), infobar_top=128, path=Path("a002.tif"))
    before = trans_m.data.copy()
    pair = transmission_pair(sem_m, trans_m, TransmissionConfig(min_area=10))
    assert np.allclose(pair.shift, shift, atol=0.25)
    assert pair.offset == (3, 0) and pair.image.shape == (125, 157)
    assert pair.labels.max() == 5 and pair.name == "a001"
    np.testing.assert_array_equal(pair.image, sem[3:128, :157])
    # the labels sit on the SEM discs
    assert pair.labels[80 - 3, 90] > 0 and pair.labels[5, 150] == 0
    np.testing.assert_array_equal(trans_m.data, before)


def test_transmission_pair_rejects_large_shift_and_shape():
    sem, trans = _pair((0.0, 0.0))
    with pytest.raises(InputError, match="max_shift"):
        transmission_pair(Micrograph(sem), Micrograph(trans), TransmissionConfig(max_shift=1.0),
                          shift=(5.0, 0.0))
    with pytest.raises(InputError, match="differs"):
        transmission_pair(Micrograph(sem), Micrograph(trans[:-1]))


def test_config_validation():
    with pytest.raises(InputError, match="split"):
        TransmissionConfig(split="magic")
    with pytest.raises(InputError, match="register_on"):
        TransmissionConfig(register_on="sift")
    with pytest.raises(InputError, match="split_h"):
        TransmissionConfig(split_h=-1.0)


def test_read_trakem2_translation(tmp_path):
    path = tmp_path / "t.xml"
    path.write_text(
        '<ict_transform_list>\n<iict_transform invertible="true" class="mpicbg.trakem2.transform.'
        'TranslationModel2D" data="1.5 -4.25" />\n<iict_transform invertible="true" '
        'class="mpicbg.trakem2.transform.TranslationModel2D" data="0.5 0.0" />\n'
        '</ict_transform_list>'
    )
    assert read_trakem2_translation(path) == (2.0, -4.25)
    path.write_text('<iict_transform class="mpicbg.trakem2.transform.AffineModel2D" '
                    'data="1.0 0.2 0.0 1.0 0.0 0.0" />')
    with pytest.raises(InputError, match="only translations"):
        read_trakem2_translation(path)


def test_find_transmission_twins(tmp_path):
    (tmp_path / "t").mkdir()
    for name in ("img0099.tif", "img0100.png", "x.tif"):
        (tmp_path / "t" / name).write_bytes(b"0")
    sems = [Path("s/img0099.tif"), Path("s/img0097.tif"), Path("s/y.tif")]
    assert find_transmission_twins(sems, tmp_path / "t") == {
        Path("s/img0099.tif"): tmp_path / "t" / "img0100.png"
    }
    with pytest.raises(InputError, match="does not exist"):
        find_transmission_twins(sems, tmp_path / "missing")


def test_export_import_round_trip_and_png_correction(tmp_path):
    import imageio.v3 as iio

    labels = np.zeros((20, 24), np.int32)
    labels[2:8, 2:8], labels[10:18, 10:20] = 1, 2
    pair = TrainingPair(np.linspace(0, 1, 480, dtype=np.float32).reshape(20, 24), labels, "p1")
    export_pairs(tmp_path, [pair])
    assert (tmp_path / "preview" / "p1.png").is_file()
    (back,) = import_pairs(tmp_path)
    np.testing.assert_array_equal(back.image, pair.image)
    np.testing.assert_array_equal(back.labels, labels)
    # hand correction saved as a colour PNG (newer than the TIFF): a third particle painted
    corrected = labels.copy()
    corrected[12:16, 2:6] = 3
    png = tmp_path / "labels" / "p1.png"
    iio.imwrite(png, label_colours(corrected))
    tif = tmp_path / "labels" / "p1.tif"
    import os

    os.utime(tif, (1, 1))
    (back,) = import_pairs(tmp_path)
    assert back.labels.max() == 3
    assert len(np.unique(back.labels[12:16, 2:6])) == 1 and back.labels[12, 2] > 0


def test_import_errors(tmp_path):
    with pytest.raises(InputError, match="no images"):
        import_pairs(tmp_path)
    pair = TrainingPair(np.zeros((8, 8), np.float32), np.zeros((8, 8), np.int32), "a")
    export_pairs(tmp_path, [pair], preview=False)
    (tmp_path / "labels" / "a.tif").unlink()
    with pytest.raises(InputError, match="no labels"):
        import_pairs(tmp_path)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared BAM data not available")
def test_registration_matches_trakem2():
    from nanosizer.io import read_micrograph

    sems = sorted((DATA / "sem").glob("*.tif"))
    twins = find_transmission_twins(sems, DATA / "tsem")
    assert len(twins) == 4
    for sem_path, tsem_path in twins.items():
        sem, tsem = read_micrograph(sem_path), read_micrograph(tsem_path)
        top = min(sem.infobar_top or sem.shape[0], tsem.infobar_top or tsem.shape[0])
        dy, dx = register_translation(sem.data[:top], tsem.data[:top])
        ref_dx, ref_dy = read_trakem2_translation(DATA / "tsem-registration" / f"{tsem_path.stem}.xml")
        assert np.hypot(dy - ref_dy, dx - ref_dx) < 1.0, sem_path.name
