"""Prompt enhancement."""
