"""A small least-recently-used cache bounded by bytes, for masks, textures and remap tables.

Derived arrays (vignette masks, grain textures, fixed-point remap maps) cost more to compute than to
apply, so they are kept per size and parameters; the byte bound keeps 4096-pixel maps from piling up.
It must never cache anything that depends on the pixels of the image being filtered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

#: Default budget for all cached arrays together: 256 MB.
DEFAULT_BUDGET = 256 * 1024 * 1024


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64


class ArrayCache:
    """Thread-safe LRU mapping whose values (arrays or tuples of arrays) fit in ``budget`` bytes.

    Values are returned as stored: callers must treat them as read-only (they are flagged so).

    Examples
    --------
    >>> cache = ArrayCache(budget=100)
    >>> cache.get_or_make(("ones", 4), lambda: np.ones(4, np.uint8)).tolist()
    [1, 1, 1, 1]
    >>> len(cache), cache.nbytes
    (1, 4)
    """

    def __init__(self, budget: int = DEFAULT_BUDGET):
        self.budget = int(budget)
        self.nbytes = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Drop every cached value."""
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """Return the value cached under ``key``, computing it with ``make()`` when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        for array in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        size = _nbytes(value)
        if size > self.budget:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self.nbytes += size
            while self.nbytes > self.budget and self._items:
                _, old = self._items.popitem(last=False)
                self.nbytes -= _nbytes(old)
        return value


#: The cache shared by all filters of this package.
shared_cache = ArrayCache()
