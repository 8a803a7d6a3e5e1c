"""Connecting: connection string, account URL with a key, a SAS, Entra ID; clear errors when not configured."""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta, timezone

import pytest

from imagestudio_nb.cloud import clone, connect, push, share
from imagestudio_nb.cloud.azurite import DEV_ACCOUNT, DEV_KEY
from imagestudio_nb.cloud.catalog import project_names
from imagestudio_nb.config import load_config
from imagestudio_nb.errors import CloudError, ConfigError, CredentialsError

from .conftest import container_name, make_project


def test_nothing_configured_names_the_variables_to_set():
    with pytest.raises(CredentialsError, match="AZURE_STORAGE_CONNECTION_STRING"):
        connect(load_config())


def test_account_url_and_key_from_the_config_file(azurite, request, machines, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\naccount_url = "{azurite.blob_endpoint}"\naccount_key = "{DEV_KEY}"\n'
                      f'container = "{container_name(request)}"\nprefix = "team/"\n')
    monkeypatch.setenv("IMAGESTUDIO_CONFIG", str(config))
    workspace = connect()
    assert workspace.auth == "key" and workspace.prefix == "team/"
    push(make_project("Keyed", machines[0], assets=1), workspace, progress=False)
    assert project_names(workspace) == ["Keyed"]
    assert DEV_KEY not in repr(workspace)


def test_a_sas_token_syncs_but_cannot_sign_share_links(azurite, request, machines):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    name = container_name(request)
    connect(connection_string=azurite.connection_string, container=name)  # an admin made the container
    token = generate_account_sas(DEV_ACCOUNT, DEV_KEY, ResourceTypes(container=True, object=True),
                                 AccountSasPermissions(read=True, write=True, list=True, create=True, delete=True),
                                 datetime.now(timezone.utc) + timedelta(hours=1))
    workspace = connect(account_url=azurite.blob_endpoint, sas_token=token, container=name)
    assert workspace.auth == "sas"
    project = make_project("Via SAS", machines[0], assets=2)
    push(project, workspace, progress=False)
    assert clone("Via SAS", workspace, local_workspace=machines[1], progress=False).to_data() == project.to_data()
    with pytest.raises(CloudError, match="account key"):
        share(project, workspace, revocable=False)


def test_a_read_only_sas_is_refused_on_push_with_a_clear_error(azurite, request, machines):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    name = container_name(request)
    connect(connection_string=azurite.connection_string, container=name)
    token = generate_account_sas(DEV_ACCOUNT, DEV_KEY, ResourceTypes(container=True, object=True),
                                 AccountSasPermissions(read=True, list=True),
                                 datetime.now(timezone.utc) + timedelta(hours=1))
    workspace = connect(account_url=azurite.blob_endpoint, sas_token=token, container=name)
    with pytest.raises(CredentialsError, match="permission") as caught:
        push(make_project("Read only", machines[0], assets=1), workspace, progress=False)
    assert "sig=" not in str(caught.value)


def test_entra_id_needs_the_optional_extra(monkeypatch):
    real_import = builtins.__import__

    def no_identity(name, *args, **kwargs):
        if name.startswith("azure.identity"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_identity)
    with pytest.raises(ConfigError, match=r"imagestudio-nb\[entra\]"):
        connect(account_url="https://example.blob.core.windows.net", create_container=False)


def test_entra_id_uses_a_token_credential():
    class FakeToken:  # any azure-core token credential is accepted as it is
        def get_token(self, *scopes, **kwargs):
            from azure.core.credentials import AccessToken

            return AccessToken("token", 2**31)

    workspace = connect(account_url="https://acct.blob.core.windows.net", credential=FakeToken(), container="entra",
                        create_container=False)  # (Entra ID needs HTTPS, which Azurite here does not serve)
    assert workspace.auth == "entra" and workspace.account_name == "acct"
