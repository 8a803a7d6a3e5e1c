"""A loopback stand-in that speaks the Azure OpenAI and Azure AI Foundry wire protocols.

The real ``openai`` SDK talks to it over HTTP on 127.0.0.1 (openai 3.x uses httpx2, so transport
mocks do not see its traffic). Image routes live in ``images.py``, chat routes in ``chat.py``.

Sources: each route handler and error shape names the Microsoft documentation it follows (searched on
Microsoft Learn for issue 19). A title marked "(title from a translated edition)" was read on a localised
copy of the page; "not confirmed" means no Microsoft page describing that detail was found:

- Azure OpenAI in Microsoft Foundry Models REST API reference (routes, ``api-version``, error bodies;
  title from a translated edition), https://learn.microsoft.com/azure/ai-foundry/openai/reference
- How to use image generation models, Azure OpenAI how-to (images generations/edits; page seen, exact
  English title not confirmed), https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/dall-e
- Quickstart: Generate video with Sora (preview) (Sora video jobs; title from a translated edition),
  https://learn.microsoft.com/en-us/azure/ai-services/openai/video-generation-quickstart
- Deploy and use MAI image models in Microsoft Foundry (preview) (title from a translated edition),
  https://learn.microsoft.com/en-us/azure/foundry/foundry-models/how-to/use-foundry-models-mai
- Content filtering, Azure OpenAI concepts (content-filter error shapes; URL seen cited in Microsoft Q&A,
  page not read: title not confirmed), https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter
- Azure OpenAI 429: token and request rate limits explained (429 and its retry headers),
  https://learn.microsoft.com/en-us/microsoft-cloud/dev/dev-proxy/concepts/azure-openai-429-token-rate-limit
- Black Forest Labs FLUX route on Foundry: not confirmed on Microsoft Learn; the Tech Community
  announcement 'Black Forest Labs FLUX.1 Kontext [pro] and FLUX1.1 [pro] now available in Azure AI
  Foundry' was seen only as a link:
  https://techcommunity.microsoft.com/blog/azure-ai-foundry-blog/black-forest-labs-flux-1-kontext-pro-and-flux1-1-pro-now-available-in-azure-ai-f/4434659
"""

from .server import AzureStandIn, Fault

__all__ = ["AzureStandIn", "Fault"]
