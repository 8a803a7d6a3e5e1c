"""Size rules for models that take any ``WIDTHxHEIGHT`` within limits, rather than a fixed list.

gpt-image-2 takes any size whose edges are multiples of 16 within pixel, edge and aspect limits; FLUX any
size in steps of 32; MAI models any size above a minimum edge and below a pixel budget. A rule answers
"is this size allowed?" with the reason when it is not. It declares; it never talks to a service.
"""

from __future__ import annotations

from dataclasses import dataclass


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x864"`` -> ``(1536, 864)``; ``None`` when ``size`` is not ``WIDTHxHEIGHT`` with positive integers.

    Examples
    --------
    >>> parse_size("1536x864"), parse_size("auto"), parse_size("12x-4")
    ((1536, 864), None, None)
    """
    if not isinstance(size, str):
        return None
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    w, h = int(width), int(height)
    return (w, h) if w > 0 and h > 0 else None


@dataclass(frozen=True)
class SizeRule:
    """Limits on a free ``WIDTHxHEIGHT``; every limit left at ``None`` is not checked.

    Parameters
    ----------
    multiple : int
        Both edges must be multiples of this.
    min_edge, max_edge : int, optional
        Limits on each edge (the shorter and the longer).
    max_aspect : float, optional
        Longest edge divided by the shortest edge may not exceed this.
    min_pixels, max_pixels : int, optional
        Limits on ``width * height``.
    """

    multiple: int = 1
    min_edge: int | None = None
    max_edge: int | None = None
    max_aspect: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None

    def problem(self, size: str) -> str | None:
        """Why ``size`` breaks the rule, or ``None`` when it is allowed.

        Examples
        --------
        >>> rule = SizeRule(multiple=16, max_edge=3840, max_aspect=3, min_pixels=655_360, max_pixels=8_294_400)
        >>> rule.problem("2048x1152") is None
        True
        >>> rule.problem("3840x1000")
        'both edges must be multiples of 16 (1000 is not)'
        >>> rule.problem("3840x1264")
        'the long edge may be at most 3 times the short edge (3840x1264 is 3.04:1)'
        """
        parsed = parse_size(size)
        if parsed is None:
            return "size must be WIDTHxHEIGHT in pixels, e.g. 1536x1024"
        width, height = parsed
        for edge in (width, height):
            if edge % self.multiple:
                return f"both edges must be multiples of {self.multiple} ({edge} is not)"
        long, short = max(width, height), min(width, height)
        if self.min_edge is not None and short < self.min_edge:
            return f"each edge must be at least {self.min_edge} px ({short} is shorter)"
        if self.max_edge is not None and long > self.max_edge:
            return f"the longest edge may be at most {self.max_edge} px ({long} is longer)"
        if self.max_aspect is not None and long > self.max_aspect * short:
            return (f"the long edge may be at most {self.max_aspect:g} times the short edge "
                    f"({size} is {long / short:.2f}:1)")
        pixels = width * height
        if self.min_pixels is not None and pixels < self.min_pixels:
            return f"width x height must be at least {self.min_pixels:,} pixels ({size} has {pixels:,})"
        if self.max_pixels is not None and pixels > self.max_pixels:
            return f"width x height may be at most {self.max_pixels:,} pixels ({size} has {pixels:,})"
        return None

    def describe(self) -> str:
        """The rule in words, for error messages and ``docs/models.md``.

        Examples
        --------
        >>> SizeRule(multiple=32, min_edge=256, max_edge=1440).describe()
        'any WIDTHxHEIGHT in multiples of 32; each edge 256 to 1440 px'
        """
        parts = [f"any WIDTHxHEIGHT in multiples of {self.multiple}" if self.multiple > 1 else "any WIDTHxHEIGHT"]
        if self.min_edge is not None and self.max_edge is not None:
            parts.append(f"each edge {self.min_edge} to {self.max_edge} px")
        elif self.min_edge is not None:
            parts.append(f"each edge at least {self.min_edge} px")
        elif self.max_edge is not None:
            parts.append(f"longest edge at most {self.max_edge} px")
        if self.max_aspect is not None:
            parts.append(f"aspect ratio at most {self.max_aspect:g}:1")
        if self.min_pixels is not None and self.max_pixels is not None:
            parts.append(f"{self.min_pixels:,} to {self.max_pixels:,} pixels")
        elif self.max_pixels is not None:
            parts.append(f"at most {self.max_pixels:,} pixels")
        return "; ".join(parts)


#: gpt-image-2 (Microsoft's model catalogue, 2026): edges multiples of 16, long edge up to 3840 (4K),
#: long:short at most 3:1, 655,360 to 8,294,400 pixels.
GPT_IMAGE_2_RULE = SizeRule(multiple=16, max_edge=3840, max_aspect=3.0, min_pixels=655_360, max_pixels=8_294_400)
#: FLUX on Azure: any width and height from 256 to 1440 in steps of 32.
FLUX_RULE = SizeRule(multiple=32, min_edge=256, max_edge=1440)
#: MAI-Image-2 and -2e: each edge at least 768 px, at most 1,048,576 pixels (1024x1024).
MAI_2_RULE = SizeRule(multiple=1, min_edge=768, max_pixels=1_048_576)
#: MAI-Image-2.5 and -2.5-Flash: each edge at least 768 px, at most 2,359,296 pixels (1536x1536).
MAI_25_RULE = SizeRule(multiple=1, min_edge=768, max_pixels=2_359_296)
