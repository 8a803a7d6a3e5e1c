"""A loopback stand-in that speaks the Azure OpenAI and Azure AI Foundry wire protocols.

The real ``openai`` SDK talks to it over HTTP on 127.0.0.1 (openai 3.x uses httpx2, so transport
mocks do not see its traffic). Image routes live in ``images.py``, chat routes in ``chat.py``.
"""

from .server import AzureStandIn, Fault

__all__ = ["AzureStandIn", "Fault"]
