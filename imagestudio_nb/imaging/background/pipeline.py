"""A bounded three-stage pipeline: load ahead and store behind in threads, compute in the calling thread.

The network (onnxruntime) and OpenCV release the GIL, so reading and decoding the next images and encoding
and writing the last ones overlap the computation of the current one. At most ``depth`` items wait on
either side, so memory stays bounded however many items there are. It knows nothing of images.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor


def run_bounded(count: int, load: Callable[[int], object], compute: Callable[[Sequence], list],
                store: Callable[[int, object], object], *,
                done: Callable[[int, object, BaseException | None], None],
                group: int = 1, depth: int = 2, loaders: int = 1, storers: int = 1) -> None:
    """Run ``load(k)`` -> ``compute([values])`` -> ``store(k, result)`` for ``k`` in ``range(count)``.

    ``compute`` takes up to ``group`` loaded values at once and returns one entry per value: a result, or
    an exception instance for a value that failed. ``done(k, stored, error)`` is called in the calling
    thread once per item, in order of completion, with the error of whichever stage failed; a failure never
    stops the other items. Besides the group computing, at most ``depth + group`` items are loaded ahead and
    ``depth`` stores are pending.

    Examples
    --------
    >>> out = {}
    >>> def load(k):
    ...     if k == 2:
    ...         raise ValueError("bad item")
    ...     return k
    >>> run_bounded(4, load, lambda values: [v * 10 for v in values], lambda k, r: r + 1,
    ...             done=lambda k, stored, error: out.update({k: stored if error is None else str(error)}),
    ...             group=2)
    >>> [out[k] for k in range(4)]
    [1, 11, 'bad item', 31]
    """
    with ThreadPoolExecutor(max(1, loaders), thread_name_prefix="load") as load_pool, \
            ThreadPoolExecutor(max(1, storers), thread_name_prefix="store") as store_pool:
        loading: deque = deque()
        storing: deque = deque()
        next_index = 0

        def fill() -> None:
            nonlocal next_index
            while next_index < count and len(loading) < depth + group:
                loading.append((next_index, load_pool.submit(load, next_index)))
                next_index += 1

        def finish_oldest_store() -> None:
            k, future = storing.popleft()
            try:
                stored = future.result()
            except Exception as exc:  # one item's failure must never stop the others
                done(k, None, exc)
            else:
                done(k, stored, None)

        fill()
        while loading:
            ready = []
            while loading and len(ready) < group:
                k, future = loading.popleft()
                try:
                    ready.append((k, future.result()))
                except Exception as exc:
                    done(k, None, exc)
            fill()  # the next images load while this group computes
            if ready:
                try:
                    results = compute([value for _, value in ready])
                except Exception as exc:
                    results = [exc] * len(ready)
                for (k, _), result in zip(ready, results):
                    if isinstance(result, BaseException):
                        done(k, None, result)
                    else:
                        storing.append((k, store_pool.submit(store, k, result)))
            while len(storing) > depth:
                finish_oldest_store()
        while storing:
            finish_oldest_store()
