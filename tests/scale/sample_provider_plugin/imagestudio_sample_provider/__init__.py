"""A sample provider plug-in: one model, ``solid-1``, that paints the prompt's colour (offline)."""

from __future__ import annotations

import hashlib

import numpy as np

from imagestudio_nb.imaging.codec import encode_image
from imagestudio_nb.providers.base import GeneratedImage, ImageRequest, ModelCapabilities, ProviderResult

CAPABILITIES = {
    "solid-1": ModelCapabilities("solid-1", "sample_solid", sizes=("64x64", "128x128"), max_n=4, seed=True,
                                 description="a solid colour derived from the prompt"),
}


class SolidProvider:
    name = "sample_solid"

    def __init__(self, deployment: str | None = None):
        self.deployment = deployment

    def capabilities(self):
        return dict(CAPABILITIES)

    def generate(self, request: ImageRequest, *, progress=None) -> ProviderResult:
        width, height = (int(v) for v in request.size.split("x"))
        colour = np.frombuffer(hashlib.sha256(request.prompt.encode()).digest()[:3], np.uint8)
        image = np.broadcast_to(colour, (height, width, 3)).copy()
        images = [GeneratedImage(encode_image(image, "png"), seed=request.seed) for _ in range(request.n)]
        return ProviderResult(images, provider=self.name, model="solid-1", deployment=self.deployment,
                              usage={"images": request.n})

    def edit(self, request: ImageRequest, *, progress=None) -> ProviderResult:
        return self.generate(request, progress=progress)


def create_provider(settings, endpoint, deployment):
    return SolidProvider(getattr(deployment, "name", None))
