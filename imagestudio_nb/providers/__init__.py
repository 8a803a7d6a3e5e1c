"""Image generation backends behind one protocol (DESIGN.md D4): ``local`` offline, Azure OpenAI, Foundry FLUX."""

from .base import GeneratedImage, ImageProvider, ImageRequest, ModelCapabilities, ProviderResult, validate_request
from .registry import available_models, resolve_model

__all__ = [
    "GeneratedImage", "ImageProvider", "ImageRequest", "ModelCapabilities", "ProviderResult",
    "available_models", "resolve_model", "validate_request",
]
