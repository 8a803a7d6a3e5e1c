"""The stand-in itself: auth and api-version checks and fault injection answer like Azure."""

from __future__ import annotations

import httpx


def test_standin_refuses_a_wrong_key(azure_standin):
    r = httpx.post(f"{azure_standin.url}/_standin/probe/openai/deployments/x?api-version=2024-10-21",
                   headers={"api-key": "wrong"}, json={})
    assert r.status_code == 401
    assert "error" in r.json()


def test_standin_plays_an_injected_fault_once(azure_standin):
    azure_standin.inject(503, times=1)
    url = f"{azure_standin.url}/_standin/probe/chat?api-version=2024-10-21"
    first = httpx.post(url, headers={"api-key": azure_standin.api_key}, json={})
    second = httpx.post(url, headers={"api-key": azure_standin.api_key}, json={})
    assert first.status_code == 503
    assert second.status_code != 503
    assert [entry.headers["api-key"] for entry in azure_standin.log] == ["<redacted>", "<redacted>"]
