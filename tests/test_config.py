"""Configuration: file, environment, project overrides in the documented order; secrets kept hidden."""

from __future__ import annotations

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from imagestudio_nb.config import (config_path, import_azure_image_studio, load_config, read_config_file,
                                   write_config_file)
from imagestudio_nb.errors import ConfigError

SECRET = "sk-very-secret-value-123"

FILE = f"""
default_model = "gpt-image-1"
default_size = "1024x1024"
[[endpoints]]
name = "eastus"
base_url = "https://east.openai.azure.com/"
api_version = "2025-04-01-preview"
api_key = "{SECRET}"
  [[endpoints.deployments]]
  name = "img-east"
  model = "gpt-image-1"
  [[endpoints.deployments]]
  name = "dalle"
  model = "dall-e-3"
[[endpoints]]
name = "foundry"
base_url = "https://flux.services.ai.azure.com"
kind = "foundry"
api_key_env = "FLUX_KEY"
  [[endpoints.deployments]]
  name = "flux-pro"
  model = "flux-1.1-pro"
"""


@pytest.fixture
def config_file():
    path = config_path()
    path.write_text(FILE)
    return path


def test_file_gives_several_endpoints_with_several_deployments(config_file):
    settings = load_config()
    assert [e.name for e in settings.endpoints] == ["eastus", "foundry"]
    assert settings.find_deployment("dall-e-3")[1].name == "dalle"
    assert settings.endpoints[0].base_url == "https://east.openai.azure.com"
    assert settings.deployments() == ["eastus/img-east (gpt-image-1)", "eastus/dalle (dall-e-3)",
                                      "foundry/flux-pro (flux-1.1-pro)"]


def test_precedence_defaults_file_environment_project_arguments(config_file, monkeypatch):
    assert load_config().default_size == "1024x1024"
    monkeypatch.setenv("IMAGESTUDIO_DEFAULT_MODEL", "dall-e-3")
    assert load_config().default_model == "dall-e-3"  # environment over file
    assert load_config(project_overrides={"default_model": "local"}).default_model == "local"  # project over env
    assert load_config(project_overrides={"default_model": "local"}, default_model="flux-1.1-pro").default_model \
        == "flux-1.1-pro"  # arguments over everything


def test_azure_environment_variables_add_an_endpoint(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENTS", "gpt-image-1=my-image, dall-e-3")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"AccountName=a;AccountKey={SECRET};")
    settings = load_config()
    endpoint, deployment = settings.find_deployment("gpt-image-1")
    assert (endpoint.name, endpoint.api_version, deployment.name) == ("env", "2024-10-21", "my-image")
    assert settings.find_deployment("dall-e-3")[1].name == "dall-e-3"
    assert settings.endpoint_key(endpoint) == SECRET
    assert settings.storage.connection_string.get_secret_value().startswith("AccountName=a")


def test_key_comes_from_the_named_variable_then_the_common_one(config_file, monkeypatch):
    settings = load_config()
    foundry = settings.endpoints[1]
    assert settings.endpoint_key(foundry) is None
    monkeypatch.setenv("FLUX_KEY", "flux-secret")
    assert load_config().endpoint_key(foundry) == "flux-secret"


def test_secrets_never_show_in_repr_masked_output_or_errors(config_file, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"AccountName=a;AccountKey={SECRET};")
    settings = load_config()
    assert SECRET not in repr(settings)
    assert SECRET not in json.dumps(settings.masked())
    config_file.write_text(FILE.replace('base_url = "https://east', 'base_url = "ftp://east'))
    with pytest.raises(ConfigError) as error:
        load_config()
    assert "base_url" in str(error.value) and SECRET not in str(error.value)


def test_project_overrides_may_not_hold_secrets():
    with pytest.raises(ConfigError, match="may not override"):
        load_config(project_overrides={"endpoints": []})


def test_invalid_toml_names_the_file(config_file):
    config_file.write_text("default_model = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()


def test_written_config_is_private_and_reads_back(tmp_path):
    path = write_config_file({"default_model": "local", "endpoints": [
        {"name": "e", "base_url": "https://e.openai.azure.com", "api_key": SECRET,
         "deployments": [{"name": "d", "model": "gpt-image-1"}]}]})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_config_file(path)["endpoints"][0]["api_key"] == SECRET
    with pytest.raises(ConfigError):
        write_config_file({"endpoints": [{"name": "bad"}]})


AZURE_IMAGE_STUDIO = {
    "primary": {"status": "valid"},
    "endpoints": [
        {"id": "eastus", "name": "East US", "baseUrl": "https://east.openai.azure.com/", "apiVersion": "2025-04-01-preview",
         "apiKey": SECRET,
         "deployments": [
             {"id": "gpt-image-1", "name": "GPT Image 1", "deploymentName": "gpt-image-1-dep", "maxSize": "1536x1024"},
             {"id": "dall-e-3", "name": "DALL-E 3", "deploymentName": "dalle3"}]},
        {"id": "flux", "name": "Foundry", "baseUrl": "https://x.services.ai.azure.com", "apiVersion": "preview",
         "deployments": [{"id": "flux-1.1-pro", "deploymentName": "FLUX-1.1-pro",
                          "baseUrl": "https://other.services.ai.azure.com", "apiKey": "other-key"}]},
    ],
}


def test_azure_image_studio_config_is_imported(tmp_path):
    source = tmp_path / "azure-config.json"
    source.write_text(json.dumps(AZURE_IMAGE_STUDIO))
    data = import_azure_image_studio(source)
    endpoints = {e["name"]: e for e in data["endpoints"]}
    assert endpoints["East US"]["deployments"] == [{"name": "gpt-image-1-dep", "model": "gpt-image-1"},
                                                   {"name": "dalle3", "model": "dall-e-3"}]
    assert endpoints["Foundry"]["base_url"] == "https://other.services.ai.azure.com"
    assert endpoints["Foundry"]["kind"] == "foundry"
    write_config_file(data)
    assert load_config().find_deployment("dall-e-3")[1].name == "dalle3"


def test_import_of_a_file_without_deployments_is_refused(tmp_path):
    source = tmp_path / "azure-config.json"
    source.write_text(json.dumps({"endpoints": []}))
    with pytest.raises(ConfigError, match="no endpoints"):
        import_azure_image_studio(source)


class _ModelsHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        ok = self.headers.get("api-key") == SECRET and self.path.startswith("/openai/models?api-version=")
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"data": [{"id": "gpt-image-1"}]} if ok else {"error": {}}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def models_server():
    server = HTTPServer(("127.0.0.1", 0), _ModelsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_config_test_reaches_endpoints_and_reports_refused_keys(models_server, capsys):
    from imagestudio_nb.cli import main

    write_config_file({"endpoints": [
        {"name": "good", "base_url": models_server, "api_key": SECRET, "deployments": [{"name": "d", "model": "gpt-image-1"}]},
        {"name": "bad", "base_url": models_server, "api_key": "wrong", "deployments": [{"name": "d", "model": "gpt-image-1"}]},
    ]})
    assert main(["config", "test", "--json"]) == 4
    report = json.loads(capsys.readouterr().out)
    assert [(e["endpoint"], e["ok"], e["status"]) for e in report["endpoints"]] == [("good", True, 200), ("bad", False, 401)]


def test_a_deployment_rate_limit_reaches_the_shared_limiter():
    from imagestudio_nb.providers.registry import resolve_model

    settings = load_config(env={}, endpoints=[{
        "name": "e", "base_url": "https://rate.openai.azure.com", "api_key": "k",
        "deployments": [{"name": "img", "model": "gpt-image-1", "requests_per_minute": 120}]}])
    provider = resolve_model("gpt-image-1", settings).provider
    assert provider.limiter.rate == pytest.approx(2.0)
