"""Partial images as an iterator: ``for partial in generate_stream(...)`` while the final image is made.

A model that streams (gpt-image family, and the offline ``local`` placeholder) sends up to three coarser
renderings before each final image. :func:`generate_stream` runs :func:`~imagestudio_nb.generation.generate`
on a worker thread and hands its partial images to the caller as they arrive; the stored, attributed
result is ``stream.results`` once the iteration ends. It adds nothing else: storing and provenance are
:func:`generate`'s.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .generation import GenerationResults, edit, generate
from .providers.base import PartialImage

_DONE = object()


class ImageStream:
    """Iterate over :class:`PartialImage` objects; ``results`` is the final :class:`GenerationResults`."""

    def __init__(self, call: Callable[[Callable[[PartialImage], None]], GenerationResults]):
        self._queue: queue.Queue = queue.Queue()
        self._results: GenerationResults | None = None
        self._error: BaseException | None = None
        self.partials: list[PartialImage] = []
        self._finished = False
        self._thread = threading.Thread(target=self._work, args=(call,), daemon=True, name="imagestudio-stream")
        self._thread.start()

    def _work(self, call) -> None:
        try:
            self._results = call(self._queue.put)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._error = exc
        finally:
            self._queue.put(_DONE)

    def __iter__(self) -> Iterator[PartialImage]:
        while not self._finished:
            item = self._queue.get()
            if item is _DONE:
                self._finished = True
                break
            self.partials.append(item)
            yield item
        self._thread.join()
        if self._error is not None:
            raise self._error

    @property
    def results(self) -> GenerationResults:
        """The final images (waits for them; raises what generation raised)."""
        for _ in self:  # drain what the caller did not read
            pass
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._results


def generate_stream(prompt: str, *, partial_images: int = 2, **kwargs: Any) -> ImageStream:
    """Generate like :func:`~imagestudio_nb.generation.generate`, yielding partial images as they stream in.

    Parameters
    ----------
    prompt : str
        What to draw.
    partial_images : int
        How many partial images (1-3) the model sends before each final image.
    **kwargs
        Everything :func:`generate` takes (``model``, ``size``, ``n``, ``project``, ...).

    Returns
    -------
    ImageStream
        Iterate for the partial images; ``.results`` holds the final ones, stored when ``project`` is given.

    Raises
    ------
    UnsupportedParameterError
        When the model does not stream (while iterating, or from ``.results``).

    Examples
    --------
    >>> stream = generate_stream("a red fox", model="local", size="256x256", seed=3, partial_images=2)
    >>> [p.index for p in stream], stream.results[0].image.shape
    ([0, 1], (256, 256, 4))
    """
    return ImageStream(lambda on_partial: generate(prompt, partial_images=partial_images, on_partial=on_partial,
                                                   **kwargs))


def edit_stream(prompt: str, images: Any, *, partial_images: int = 2, **kwargs: Any) -> ImageStream:
    """Edit like :func:`~imagestudio_nb.generation.edit`, yielding partial images as they stream in.

    Examples
    --------
    >>> import numpy as np
    >>> stream = edit_stream("a boat", np.zeros((64, 64, 3), np.uint8), model="local", size="256x256",
    ...                      partial_images=1)
    >>> len(list(stream)), stream.results.record["kind"]
    (1, 'edit')
    """
    return ImageStream(lambda on_partial: edit(prompt, images, partial_images=partial_images,
                                               on_partial=on_partial, **kwargs))
