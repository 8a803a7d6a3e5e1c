"""Reproducible prompt experiments: grids of prompts x models x parameters x seeds, run batched, compared
in a labelled grid, scored and annotated, exported, and re-run from their records."""

from .experiment import Experiment, list_experiments
from .grid import expand_grid
from .sheet import ComparisonSheet, draw_sheet

__all__ = ["ComparisonSheet", "Experiment", "draw_sheet", "expand_grid", "list_experiments"]
