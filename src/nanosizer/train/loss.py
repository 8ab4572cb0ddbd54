"""Loss of the network's maps: BCE + Dice on foreground and contact, L1 on distance and offsets."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["segmentation_loss"]


def _soft_dice(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
               eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    if weight is not None:
        prob, target = prob * weight, target * weight
    inter = (prob * target).sum(dim=(-2, -1))
    total = prob.sum(dim=(-2, -1)) + target.sum(dim=(-2, -1))
    return (1.0 - (2.0 * inter + eps) / (total + eps)).mean()


def segmentation_loss(
    logits: torch.Tensor, targets: torch.Tensor, contact_pos_weight: float = 3.0
) -> tuple[torch.Tensor, dict[str, float]]:
    """Training loss and its parts.

    Parameters
    ----------
    logits : (N, 3, H, W) or (N, 5, H, W) tensor
        Network outputs (before the sigmoid): foreground, contact, distance and, for models
        with centre offsets, offset_y and offset_x.
    targets : (N, C, H, W) or (N, C + 1, H, W) tensor
        Targets from :func:`nanosizer.train.targets.make_targets` with the same ``C`` channels
        as ``logits``; an optional last channel weights each pixel (0 = ignored, e.g. where
        pseudo-labels are unsure).
    contact_pos_weight : float
        Weight of positive contact pixels in the BCE (contacts are rare).

    Returns
    -------
    loss : scalar tensor
        ``BCE + Dice`` (foreground) ``+ BCE + Dice`` (contact) ``+ 2 * L1`` (distance, the
        sigmoid of the third channel, with particle pixels weighted 3x) and, with offsets,
        ``+ 0.2 * L1`` of the offsets in units of ``OFFSET_PX / 32`` px (2 px) on particle pixels.
    parts : dict of float
        ``fg``, ``contact``, ``distance`` (and ``offset``).
    """
    logits = logits.float()
    n_maps = logits.shape[1]
    if targets.shape[1] not in (n_maps, n_maps + 1):
        raise ValueError(f"{targets.shape[1]} target channels for {n_maps} outputs")
    fg_l, ct_l, ds_l = logits[:, 0], logits[:, 1], logits[:, 2]
    fg_t, ct_t, ds_t = targets[:, 0], targets[:, 1], targets[:, 2]
    pixel = targets[:, n_maps].float() if targets.shape[1] > n_maps else None
    norm = pixel.sum().clamp_min(1.0) if pixel is not None else None

    def bce(lg: torch.Tensor, t: torch.Tensor, **kw) -> torch.Tensor:
        if pixel is None:
            return F.binary_cross_entropy_with_logits(lg, t, **kw)
        return (F.binary_cross_entropy_with_logits(lg, t, reduction="none", **kw) * pixel).sum() / norm

    fg = bce(fg_l, fg_t) + _soft_dice(fg_l, fg_t, pixel)
    pos_weight = torch.tensor(contact_pos_weight, device=logits.device)
    ct = bce(ct_l, ct_t, pos_weight=pos_weight) + _soft_dice(ct_l, ct_t, pixel)
    weight = 1.0 + 2.0 * fg_t
    if pixel is not None:
        weight = weight * pixel
    ds = ((torch.sigmoid(ds_l) - ds_t).abs() * weight).sum() / weight.sum().clamp_min(1e-6)
    loss = fg + ct + 2.0 * ds
    parts = {"fg": float(fg.detach()), "contact": float(ct.detach()), "distance": float(ds.detach())}
    if n_maps == 5:
        inside = fg_t if pixel is None else fg_t * pixel
        # sigmoid units * 64 = offsets in units of 2 px (the encoding spans +-OFFSET_PX = 64 px)
        err = (torch.sigmoid(logits[:, 3:5]) - targets[:, 3:5]).abs().sum(dim=1) * 64.0
        off = (err * inside).sum() / inside.sum().clamp_min(1.0)
        loss = loss + 0.2 * off
        parts["offset"] = float(off.detach())
    return loss, parts
