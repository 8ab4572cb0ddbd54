"""Split touching particles: watershed of the distance transform, merged by peak dynamics.

Equivalent to a marker-controlled watershed seeded by the h-maxima of the distance
transform, but fast: the watershed runs once from every local maximum, then neighbouring
basins are merged (highest saddle first) while the lower peak rises less than ``h`` above
the saddle.  Morphological reconstruction, the textbook way to find h-maxima, takes about a
second on a 1024 x 768 image; this takes a few tens of milliseconds.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def _basin_saddles(basins: np.ndarray, height: np.ndarray):
    """Highest pass between every pair of 4-adjacent basins: (a (E,), b (E,), saddle (E,))."""
    pairs, passes = [], []
    for axis in (0, 1):
        lo = [slice(None), slice(None)]
        hi = [slice(None), slice(None)]
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        la, lb = basins[tuple(lo)], basins[tuple(hi)]
        edge = (la != lb) & (la > 0) & (lb > 0)
        a, b = la[edge], lb[edge]
        pairs.append(np.stack([np.minimum(a, b), np.maximum(a, b)]))
        passes.append(np.minimum(height[tuple(lo)][edge], height[tuple(hi)][edge]))
    pairs, passes = np.concatenate(pairs, axis=1), np.concatenate(passes)
    if passes.size == 0:
        return pairs[0], pairs[1], passes
    key = pairs[0].astype(np.int64) * (int(basins.max()) + 1) + pairs[1]
    order = np.lexsort((passes, key))
    key, passes, pairs = key[order], passes[order], pairs[:, order]
    last = np.r_[key[1:] != key[:-1], True]
    return pairs[0][last], pairs[1][last], passes[last]


def _merge_shallow(peak: np.ndarray, h: np.ndarray, a, b, saddle) -> np.ndarray:
    """Map basin -> surviving basin after merging peaks of dynamic < h (union-find)."""
    parent = np.arange(peak.size)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for k in np.argsort(-saddle, kind="stable"):
        ra, rb = find(int(a[k])), find(int(b[k]))
        if ra == rb:
            continue
        low, high = (ra, rb) if peak[ra] < peak[rb] else (rb, ra)
        if peak[low] - saddle[k] < h[low]:
            parent[low] = high
    return np.array([find(i) for i in range(peak.size)])


def split_touching(
    foreground: np.ndarray, marker_h: float, marker_min_h: float, marker_sigma: float
) -> np.ndarray:
    """Instance labels of a binary foreground, touching particles split by watershed.

    A distance-transform peak seeds its own particle when it rises at least
    ``h = max(marker_h * r_max, marker_min_h)`` above the saddle to any higher peak, with
    ``r_max`` the largest distance in its connected clump (its h-maxima).

    Parameters
    ----------
    foreground : (H, W) ndarray of bool
        Particle pixels.
    marker_h, marker_min_h, marker_sigma : float
        See :class:`~nanosizer.segment.classical.ClassicalConfig`.

    Returns
    -------
    labels : (H, W) ndarray of int32
        0 = background; particle numbers are not necessarily consecutive.
    """
    from skimage.segmentation import watershed

    clumps, n_clumps = ndi.label(foreground)
    if n_clumps == 0:
        return clumps.astype(np.int32)
    dist = ndi.distance_transform_edt(foreground).astype(np.float32)
    if marker_sigma > 0:
        dist = ndi.gaussian_filter(dist, marker_sigma)
        dist[~foreground] = 0
    peaks = foreground & (dist >= ndi.maximum_filter(dist, size=3))
    markers, n_basins = ndi.label(peaks, structure=np.ones((3, 3)))
    basins = watershed(-dist, markers, mask=foreground)
    flat = basins.ravel()
    peak = np.zeros(n_basins + 1, dtype=np.float32)
    np.maximum.at(peak, flat, dist.ravel())
    clump_max = np.zeros(n_clumps + 1, dtype=np.float32)
    np.maximum.at(clump_max, clumps.ravel(), dist.ravel())
    clump_of_basin = np.zeros(n_basins + 1, dtype=np.int64)
    clump_of_basin[flat] = clumps.ravel()
    h = np.maximum(marker_h * clump_max[clump_of_basin], marker_min_h)
    a, b, saddle = _basin_saddles(basins, dist)
    root = _merge_shallow(peak, h, a, b, saddle)
    return root.astype(np.int32)[basins]
