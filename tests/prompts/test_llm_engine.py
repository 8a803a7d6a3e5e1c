"""The LLM engine with the real openai SDK against the loopback Azure OpenAI stand-in."""

from __future__ import annotations

import json

import pytest

from imagestudio_nb.errors import ConfigError, ContentFilterError, CredentialsError, ProviderError, RateLimitError
from imagestudio_nb.prompts import ChatEngine, enhance, score
from imagestudio_nb.prompts.azure_chat import ENHANCE_SCHEMA, LlmEnhancementAnswer
from tests.prompts.conftest import standin_settings
from tests.standin import chat

GOOD = {
    "enhanced_prompt": "a red fox curled asleep in fresh snow, wildlife photograph, soft overcast light, "
                       "close-up, 300mm telephoto lens, muted blue and rust palette, fine fur detail",
    "detected_language": "en",
    "translation": None,
    "changes": [{"slot": "medium", "text": "wildlife photograph", "reason": "names the medium"},
                {"slot": "lighting", "text": "soft overcast light", "reason": "sets the mood"},
                {"slot": "color", "text": "muted blue and rust palette", "reason": "sets the palette"}],
    "alternatives": ["a red fox leaping into snow, golden hour, wide shot", "a red fox in a blizzard, noir"],
}


def _last_chat(standin):
    return standin.state["chat_requests"][-1]


def test_structured_answer_on_the_deployment_route(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [json.dumps(GOOD)]
    result = enhance("a fox in the snow", style="photographic", engine="llm", settings=chat_settings)
    assert result.engine == "llm" and not result.fell_back
    assert result.prompt == GOOD["enhanced_prompt"]
    assert [(c.slot, c.source) for c in result.changes] == [("medium", "llm"), ("lighting", "llm"), ("colour", "llm")]
    assert result.alternatives == GOOD["alternatives"]
    assert result.style == "photographic" and result.filters[0]["filter"] == "unsharp_mask"
    assert result.usage["deployment"] == "gpt-4o-mini" and result.usage["route"] == "deployment"
    assert result.usage["prompt_tokens"] > 0
    entry = azure_standin.log[-1]
    assert entry.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert entry.query == {"api-version": "2024-10-21"}
    body = _last_chat(azure_standin)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == ENHANCE_SCHEMA
    assert body["messages"][0]["role"] == "system" and "Photographic style" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": "a fox in the snow"}
    # the local engine's reading goes along: the slots the user left empty
    assert "leaves these slots empty: medium" in body["messages"][0]["content"]


def test_v1_route_names_the_deployment_in_the_body(azure_standin):
    settings = standin_settings(azure_standin, api_version="v1")
    azure_standin.state["chat_replies"] = [json.dumps(GOOD)]
    result = enhance("a fox in the snow", engine="llm", settings=settings)
    assert result.prompt == GOOD["enhanced_prompt"] and result.usage["route"] == "v1"
    entry = azure_standin.log[-1]
    assert entry.path == "/openai/v1/chat/completions" and "api-version" not in entry.query
    assert _last_chat(azure_standin)["model"] == "gpt-4o-mini"


def test_old_api_version_asks_for_json_object_with_the_schema_in_the_prompt(azure_standin):
    settings = standin_settings(azure_standin, api_version="2024-02-01")
    result = enhance("a fox in the snow", engine="llm", settings=settings)  # the stand-in follows the schema
    assert result.engine == "llm" and result.prompt == "a fox in the snow, enhanced by the stand-in"
    body = _last_chat(azure_standin)
    assert body["response_format"] == {"type": "json_object"}
    assert '"enhanced_prompt"' in body["messages"][0]["content"]


def test_the_stand_ins_default_answer_satisfies_the_schema(azure_standin, chat_settings):
    with ChatEngine(chat_settings) as engine:
        answer, usage = engine.complete_json("system", "a cat", name="x", schema=ENHANCE_SCHEMA,
                                             answer=LlmEnhancementAnswer)
    assert answer.enhanced_prompt == "a cat, enhanced by the stand-in"
    assert usage["api_version"] == "2024-10-21"


def test_malformed_json_falls_back_to_local_and_says_so(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = ['{"enhanced_prompt": "a fox in the snow, wildlife photo", "changes": [']
    result = enhance("a fox in the snow", engine="auto", settings=chat_settings)
    assert result.engine == "local" and result.fell_back
    assert "malformed JSON" in result.note and "local engine enhanced the prompt instead" in result.note
    assert result.prompt.startswith("a fox in the snow, ")
    azure_standin.state["chat_replies"] = ["not json at all"]
    with pytest.raises(ProviderError, match="malformed JSON"):
        enhance("a fox in the snow", engine="llm", settings=chat_settings)


def test_json_off_the_schema_is_refused(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [json.dumps({"prompt": "a fox"}),
                                           json.dumps({**GOOD, "alternatives": ["x"] * 50})]
    with pytest.raises(ProviderError, match="does not match the schema .*enhanced_prompt"):
        enhance("a fox", engine="llm", settings=chat_settings)
    with pytest.raises(ProviderError, match="alternatives"):
        enhance("a fox", engine="llm", settings=chat_settings)


@pytest.mark.parametrize("inner_key", ["innererror", "inner_error"])
def test_content_filter_refusal_of_the_prompt(azure_standin, chat_settings, inner_key):
    azure_standin.state["chat_replies"] = [chat.content_filter_refusal("violence", inner_key=inner_key)]
    with pytest.raises(ContentFilterError, match=r"refused the prompt \(violence \(high\)\)") as caught:
        enhance("a violent scene", engine="llm", settings=chat_settings)
    assert caught.value.categories["violence"] == {"filtered": True, "severity": "high"}
    assert len(azure_standin.state["chat_requests"]) == 1  # a refusal is not retried


def test_content_filter_refusal_in_auto_mode_falls_back_with_a_note(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [chat.content_filter_refusal("hate")]
    result = enhance("a crowd at a rally", engine="auto", settings=chat_settings)
    assert result.engine == "local" and result.fell_back
    assert "ContentFilterError" in result.note and "hate" in result.note


def test_an_answer_withheld_by_the_filter_is_a_content_filter_error(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [chat.reply(None, finish_reason="content_filter", filtered="sexual")]
    with pytest.raises(ContentFilterError, match=r"withheld .*sexual") as caught:
        enhance("a beach", engine="llm", settings=chat_settings)
    assert caught.value.categories["sexual"]["filtered"] is True


def test_a_429_waits_for_retry_after_then_succeeds(azure_standin, chat_settings):
    azure_standin.inject(429, {"error": {"code": "429", "message": "Rate limit is exceeded."}},
                         headers={"Retry-After": "1", "retry-after-ms": "300"}, path_contains="chat/completions")
    azure_standin.state["chat_replies"] = [json.dumps(GOOD)]
    result = enhance("a fox in the snow", engine="llm", settings=chat_settings)
    assert result.engine == "llm" and result.prompt == GOOD["enhanced_prompt"]
    attempts = [e for e in azure_standin.log if e.path.endswith("chat/completions")]
    assert len(attempts) == 2
    assert attempts[1].time - attempts[0].time >= 0.3  # it honoured retry-after-ms


def test_429s_beyond_the_budget_fall_back_to_local_with_a_note(azure_standin, chat_settings):
    azure_standin.inject(429, headers={"retry-after-ms": "20"}, times=10, path_contains="chat/completions")
    result = enhance("a fox in the snow", engine="auto", settings=chat_settings)
    assert result.engine == "local" and result.fell_back
    assert "RateLimitError" in result.note and "429" in result.note
    assert len(azure_standin.log) == 3  # the first try and two retries
    with pytest.raises(RateLimitError):
        enhance("a fox in the snow", engine="llm", settings=chat_settings)


def test_a_wrong_key_is_a_credentials_error_naming_the_fix(azure_standin):
    settings = standin_settings(azure_standin, key="wrong-key-0000")
    with pytest.raises(CredentialsError, match="AZURE_OPENAI_API_KEY") as caught:
        enhance("a cat", engine="llm", settings=settings)
    assert "wrong-key-0000" not in str(caught.value)
    result = enhance("a cat", engine="auto", settings=settings)
    assert result.fell_back and "wrong-key-0000" not in result.note


def test_an_unknown_deployment_is_named(azure_standin):
    settings = standin_settings(azure_standin, deployment="no-such-chat")
    with pytest.raises(Exception, match="no-such-chat"):
        enhance("a cat", engine="llm", settings=settings)


def test_without_a_chat_deployment_llm_is_a_config_error_and_auto_is_local(offline_settings):
    with pytest.raises(ConfigError, match="chat_deployment"):
        enhance("a cat", engine="llm", settings=offline_settings)
    result = enhance("a cat", engine="auto", settings=offline_settings)
    assert result.engine == "local" and not result.fell_back
    assert "no chat deployment is configured" in result.note


def test_a_foreign_prompt_is_translated_by_the_llm(azure_standin, chat_settings):
    answer = {**GOOD, "detected_language": "fr", "translation": "a black cat on the roof of the house",
              "enhanced_prompt": "a black cat on the roof of a house at dusk, film photograph, blue hour"}
    azure_standin.state["chat_replies"] = [json.dumps(answer)]
    result = enhance("un chat noir sur le toit de la maison", engine="llm", settings=chat_settings)
    assert result.translated and result.language == "fr"
    assert result.changes[0].action == "translate"
    assert result.changes[0].text == "a black cat on the roof of the house"
    assert "in English" in _last_chat(azure_standin)["messages"][0]["content"]


def test_the_llm_writes_in_the_language_asked(azure_standin, chat_settings):
    enhance("a cat", engine="llm", language="de", settings=chat_settings)
    assert "in German" in _last_chat(azure_standin)["messages"][0]["content"]


def test_score_adds_the_llm_judgement(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [json.dumps({"score": 41, "strengths": ["clear subject"],
                                                       "weaknesses": ["no light"], "suggestion": "add light"})]
    result = score("a fox in the snow", settings=chat_settings, llm=True)
    assert result.llm["score"] == 41 and result.llm["suggestion"] == "add light"
    assert result.total == score("a fox in the snow").total  # the local rubric stands on its own
    assert _last_chat(azure_standin)["response_format"]["json_schema"]["name"] == "prompt_judgement"


def test_a_judgement_out_of_range_is_a_note(azure_standin, chat_settings):
    azure_standin.state["chat_replies"] = [json.dumps({"score": 140, "strengths": [], "weaknesses": [],
                                                       "suggestion": ""})]
    result = score("a fox", settings=chat_settings, llm=True)
    assert result.llm is None and "does not match the schema" in result.notes[0]
