"""``imagestudio config ...``: init, show (secrets masked), validate, test, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._output import JsonOption, print_json

config_app = typer.Typer(help="Create, show, check and import configuration.", no_args_is_help=True)


@config_app.command("init")
def init(force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False):
    """Write a commented config file template in the platform's config folder."""
    import os

    from ..config import CONFIG_TEMPLATE, config_path
    from ..errors import ConfigError

    path = config_path()
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already; edit it, or pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    os.chmod(path, 0o600)
    print(f"wrote {path}")


@config_app.command("show")
def show(json_output: JsonOption = False):
    """Show the merged configuration, secrets masked."""
    from ..config import config_path, load_config

    settings = load_config()
    data = settings.masked()
    if json_output:
        print_json({"file": str(config_path()), "settings": data})
        return
    print(f"config file: {config_path()}{'' if config_path().exists() else ' (absent)'}")
    print(f"workspace:   {data['workspace']}")
    print(f"user:        {data['user']}")
    print(f"model:       {data['default_model'] or 'local (default)'}")
    for endpoint in settings.endpoints:
        key = "entra" if endpoint.auth == "entra" else ("key set" if settings.endpoint_key(endpoint) else "NO KEY")
        print(f"endpoint {endpoint.name}: {endpoint.base_url} ({endpoint.kind}, api-version "
              f"{endpoint.api_version or 'default'}, {key})")
        for deployment in endpoint.deployments:
            print(f"  - {deployment.name} -> {deployment.model}")
    storage = data["storage"]
    configured = storage["connection_string"] or storage["account_url"]
    print(f"storage:     {'container ' + storage['container'] if configured else 'not configured'}")


def _problems() -> list[str]:
    from ..config import load_config

    settings = load_config()
    problems = []
    names = [e.name for e in settings.endpoints]
    problems += [f"endpoint name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for endpoint in settings.endpoints:
        if endpoint.auth == "key" and not settings.endpoint_key(endpoint):
            variable = endpoint.api_key_env or "AZURE_OPENAI_API_KEY"
            problems.append(f"endpoint {endpoint.name!r} has no API key: set {variable} or api_key, or auth = 'entra'")
        if not endpoint.deployments:
            problems.append(f"endpoint {endpoint.name!r} has no deployments")
    if settings.default_model and settings.default_model != "local" and not settings.find_deployment(settings.default_model):
        problems.append(f"default_model {settings.default_model!r} is not a configured deployment")
    return problems


@config_app.command("validate")
def validate(json_output: JsonOption = False):
    """Check the configuration; exit code 4 when something needs fixing."""
    from ..errors import ConfigError

    problems = _problems()
    if json_output:
        print_json({"ok": not problems, "problems": problems})
    else:
        for problem in problems:
            print(f"- {problem}")
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the configuration")
    if not json_output:
        print("configuration is valid")


@config_app.command("test")
def test(json_output: JsonOption = False, timeout: Annotated[float, typer.Option(help="Seconds per endpoint.")] = 10):
    """Try to reach every configured endpoint with its credentials."""
    from ..config import load_config
    from ..errors import ConfigError

    settings = load_config()
    results = []
    for endpoint in settings.endpoints:
        results.append({"endpoint": endpoint.name, **_probe(settings, endpoint, timeout)})
    if json_output:
        print_json({"endpoints": results, "local": "available"})
    else:
        print("local: available (offline placeholder generator)")
        for r in results:
            print(f"{r['endpoint']}: {'ok' if r['ok'] else 'FAILED'} - {r['detail']}")
    if any(not r["ok"] for r in results):
        raise ConfigError("some endpoints could not be reached; see above")


def _probe(settings, endpoint, timeout: float) -> dict:
    import json
    import urllib.error
    import urllib.request

    version = endpoint.api_version or "2024-10-21"
    url = f"{endpoint.base_url}/openai/models?api-version={version}"
    headers = {}
    if endpoint.auth == "key":
        key = settings.endpoint_key(endpoint)
        if not key:
            return {"ok": False, "status": None, "detail": "no API key configured"}
        headers["api-key"] = key
    else:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            return {"ok": False, "status": None, "detail": "Entra ID needs `pip install imagestudio-nb[entra]`"}
        token = DefaultAzureCredential().get_token("https://cognitiveservices.azure.com/.default").token
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            body = json.loads(response.read() or b"{}")
            return {"ok": True, "status": response.status, "detail": f"reachable ({len(body.get('data', []))} models)"}
    except urllib.error.HTTPError as exc:
        hint = {401: "key refused", 403: "access denied", 404: "not an Azure OpenAI endpoint?"}.get(exc.code, "")
        return {"ok": False, "status": exc.code, "detail": f"HTTP {exc.code} {hint}".strip()}
    except OSError as exc:
        return {"ok": False, "status": None, "detail": f"unreachable: {getattr(exc, 'reason', exc)}"}


@config_app.command("import")
def import_command(source: Path, merge: Annotated[bool, typer.Option(help="Keep existing endpoints.")] = True):
    """Import endpoints from an Azure Image Studio azure-config.json into the config file."""
    from ..config import config_path, import_azure_image_studio, read_config_file, write_config_file

    imported = import_azure_image_studio(source)
    data = read_config_file() if merge else {}
    existing = {e["name"]: e for e in data.get("endpoints", [])}
    for endpoint in imported["endpoints"]:
        existing[endpoint["name"]] = endpoint
    data["endpoints"] = list(existing.values())
    path = write_config_file(data, config_path())
    deployments = sum(len(e["deployments"]) for e in imported["endpoints"])
    print(f"imported {len(imported['endpoints'])} endpoints with {deployments} deployments into {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
