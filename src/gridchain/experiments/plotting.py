"""Figures are drawn with matplotlib's file backend (no screen needed): import `plt` from here.

Shared: imports no feature.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt"]
