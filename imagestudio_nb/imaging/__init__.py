"""Pure image operations on numpy arrays: safe decode/encode, filters, compositing, background removal.

This package must never import Jupyter, touch the network, or open files it is not handed.
"""
