"""Screenshot of the napari review widget on the built-in sample (docs/gui.png).

    xvfb-run -a python benchmarks/render_gui.py [--out docs/gui.png]

Opens napari with the widget, segments the sample with the default UNet, selects a particle
and saves a screenshot of the whole window.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs" / "gui.png")
    args = parser.parse_args()

    from qtpy.QtWidgets import QApplication

    from nanosizer.data import sample_path
    from nanosizer.gui import launch

    viewer, widget = launch([sample_path()], run=False)
    viewer.window.resize(1500, 1000)
    widget.run(blocking=True)
    widget.set_filters(size=(20.0, None))
    label = int(widget.review.table.sort_values("feret_min_nm").iloc[-1]["label"])
    widget.select(label)
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(args.out), canvas_only=False)
    print(f"wrote {args.out}")
    viewer.close()


if __name__ == "__main__":
    main()
