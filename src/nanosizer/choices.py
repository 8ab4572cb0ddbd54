"""The names nanosizer's registries accept, in one module that imports nothing.

Each tuple is the registry of its layer (:data:`nanosizer.segment.METHODS`,
:data:`nanosizer.segment.instances.DECODERS`, :data:`nanosizer.measure.SIZE_MEASURES`, ...), kept
here so that the command-line parser offers exactly them without importing NumPy or torch.
``tests/test_choices.py`` checks each against the code that implements it.

>>> from nanosizer import choices
>>> choices.METHODS
('unet', 'multiresunet', 'classical')
"""

from __future__ import annotations

__all__ = ["ARCHITECTURES", "DECODERS", "DEVICES", "METHODS", "MODALITIES", "SCALE_BAR_MODES",
           "SIZE_MEASURES"]

#: Network architectures (:data:`nanosizer.nn.ARCHITECTURES`).
ARCHITECTURES: tuple[str, ...] = ("unet", "multiresunet")
#: Segmentation methods: the shipped networks and the classical watershed.
METHODS: tuple[str, ...] = (*ARCHITECTURES, "classical")
#: Instance decoders of the CNN maps (:attr:`nanosizer.segment.InstanceThresholds.decoder`).
DECODERS: tuple[str, ...] = ("watershed", "centres", "hybrid")
#: Size measures a distribution can be built on (columns ``<name>_nm`` / ``<name>_px``).
SIZE_MEASURES: tuple[str, ...] = ("feret_min", "feret_max", "ecd")
#: When the scale bar burnt into an image is read.
SCALE_BAR_MODES: tuple[str, ...] = ("auto", "always", "none")
#: Imaging modalities the synthesiser renders.
MODALITIES: tuple[str, ...] = ("sem", "tem", "tsem")
#: Devices a network runs on.
DEVICES: tuple[str, ...] = ("cpu", "cuda")
