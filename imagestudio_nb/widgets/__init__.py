"""Jupyter widgets of Image Studio."""
