#!/usr/bin/env python3
"""Measure a model's detection limit on its synthetic validation set and store it in config.json.

Usage: python tools/stamp_detection_limit.py MODEL_DIR [--val-samples N]

The validation set is rebuilt from the model's own ``train_config`` (same seed, size and particle
ranges as ``nanosizer train`` used); models written by ``nanosizer train`` carry the figure
already, this is for folders trained before it existed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--val-samples", type=int, default=None)
    args = parser.parse_args()
    import torch

    from nanosizer.nn import load_model
    from nanosizer.segment.instances import InstanceThresholds
    from nanosizer.train import TrainConfig
    from nanosizer.train.data import validation_set
    from nanosizer.train.export import detection_metadata
    from nanosizer.train.validate import predict_probabilities

    path = args.model / "config.json"
    stored = json.loads(path.read_text())
    train = dict(stored["metadata"]["train_config"])
    if args.val_samples:
        train["val_samples"] = args.val_samples
    known = set(TrainConfig.__dataclass_fields__)
    config = TrainConfig.from_dict({k: v for k, v in train.items() if k in known})
    val = validation_set(config)
    model = load_model(args.model, device=torch.device("cpu"))
    probs = predict_probabilities(model.net, [img for img, _ in val], torch.device("cpu"), True)
    thresholds = InstanceThresholds.from_dict(stored["metadata"]["thresholds"])
    stored["metadata"].update(detection_metadata(probs, [lab for _, lab in val], thresholds))
    path.write_text(json.dumps(stored, indent=2) + "\n")
    print(stored["metadata"]["detection_limit_px"], stored["metadata"]["recall_by_size"])


if __name__ == "__main__":
    main()
