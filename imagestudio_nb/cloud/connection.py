"""Connecting to Azure Blob Storage: one container per workspace, projects under a prefix.

Credentials come from a connection string, an account URL with a key or a SAS, or Entra ID
(azure-identity, the optional ``entra`` extra). Secrets stay inside the SDK's credential objects:
they never reach a repr, a log line, an exception message or a project file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config import Settings, load_config, mask_secret_text
from ..errors import CloudError, CloudUnavailableError, ConfigError, CredentialsError, InvalidArgumentError

DEFAULT_CONCURRENCY = 8

_NOT_CONFIGURED = ("no Azure Blob Storage is configured: set AZURE_STORAGE_CONNECTION_STRING, or "
                   "AZURE_STORAGE_ACCOUNT_URL with AZURE_STORAGE_SAS_TOKEN, an account key ([storage] account_key) "
                   "or Entra ID (pip install 'imagestudio-nb[entra]')")


@dataclass
class TransferStats:
    """What went over the wire: requests (every attempt) and body bytes sent and received."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def on_request(self, request: Any) -> None:
        length = int(request.http_request.headers.get("Content-Length") or 0)
        with self._lock:
            self.requests += 1
            self.bytes_sent += length

    def on_response(self, response: Any) -> None:
        length = int(response.http_response.headers.get("Content-Length") or 0)
        if response.http_request.method == "HEAD":
            length = 0
        with self._lock:
            self.bytes_received += length

    def snapshot(self) -> dict[str, int]:
        """The counters as a dict."""
        with self._lock:
            return {"requests": self.requests, "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received}

    def since(self, before: dict[str, int]) -> dict[str, int]:
        """The counters' growth since an earlier :meth:`snapshot`."""
        now = self.snapshot()
        return {key: now[key] - before.get(key, 0) for key in now}


def public_url(url: str) -> str:
    """A URL without its query string (where a SAS would be), safe to show and store.

    Examples
    --------
    >>> public_url("https://acct.blob.core.windows.net/c?sv=2024&sig=abc")
    'https://acct.blob.core.windows.net/c'
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class CloudWorkspace:
    """A connected workspace: a container of one storage account, with projects under ``prefix``.

    Obtain one with :func:`connect`. It holds no secret in its attributes' reprs; the SDK keeps
    credentials. ``stats`` counts requests and bytes, ``concurrency`` bounds parallel transfers and
    ``quota_bytes`` (if set) caps what the workspace may hold.
    """

    def __init__(self, service: Any, container: str, *, prefix: str = "projects/", auth: str = "key",
                 account_key: str | None = None, credential: Any = None, stats: TransferStats | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY, quota_bytes: int | None = None,
                 use_snapshots: bool = True):
        self.service = service
        self.container_name = container
        self.container = service.get_container_client(container)
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.auth = auth
        self.stats = stats or TransferStats()
        self.concurrency = max(1, int(concurrency))
        self.quota_bytes = quota_bytes
        self.use_snapshots = use_snapshots
        self._account_key = account_key
        self._token_credential = credential

    @property
    def account_name(self) -> str:
        return self.service.account_name

    @property
    def url(self) -> str:
        """The container's URL, without any SAS."""
        return public_url(self.container.url)

    @property
    def identity(self) -> str:
        """Names this remote in a project's sync record (no secret in it)."""
        return f"{public_url(self.service.url).rstrip('/')}/{self.container_name}/{self.prefix}"

    def ensure_container(self) -> None:
        """Create the container if it does not exist (a SAS without that right is fine if it exists)."""
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        with translate_errors(self, "creating the container"):
            try:
                self.container.create_container()
            except ResourceExistsError:
                pass
            except HttpResponseError as exc:
                # A SAS scoped to blobs may not create containers; the container may well exist then.
                code = str(getattr(exc.error_code, "value", exc.error_code) or "")
                if exc.status_code != 403 or code not in ("AuthorizationPermissionMismatch",
                                                          "AuthorizationResourceTypeMismatch"):
                    raise

    def __repr__(self) -> str:
        return f"CloudWorkspace({self.url!r}, prefix={self.prefix!r}, auth={self.auth!r})"


def check_container_name(name: str) -> str:
    """Validate a container name by the service's rules (3-63 of a-z, 0-9 and single hyphens).

    Examples
    --------
    >>> check_container_name("imagestudio")
    'imagestudio'
    >>> check_container_name("My_Projects")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: container name 'My_Projects' is not allowed: use 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (AZURE_STORAGE_CONTAINER)
    """
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", name):
        raise InvalidArgumentError(f"container name {name!r} is not allowed: use 3 to 63 lowercase letters, digits "
                                   "and single hyphens, starting and ending with a letter or digit "
                                   "(AZURE_STORAGE_CONTAINER)")
    return name


def _retry_policy(retry_total: int, backoff: float):
    from azure.storage.blob import ExponentialRetry

    return ExponentialRetry(initial_backoff=backoff, increment_base=2, retry_total=retry_total,
                            random_jitter_range=min(1, backoff))


def _transport(concurrency: int):
    # One pooled connection per concurrent transfer; the SDK's default pool holds 10.
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(10, concurrency + 2))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return RequestsTransport(session=session, session_owner=True)


def connect(settings: Settings | None = None, *, connection_string: str | None = None,
            account_url: str | None = None, account_key: str | None = None, sas_token: str | None = None,
            credential: Any = None, container: str | None = None, prefix: str | None = None,
            quota_bytes: int | None = None, concurrency: int = DEFAULT_CONCURRENCY, retry_total: int = 3,
            retry_backoff: float = 1.0, timeout: float = 60.0, create_container: bool = True,
            use_snapshots: bool = True) -> CloudWorkspace:
    """Connect to the configured (or given) Azure Blob Storage container.

    Arguments win over the configuration (``load_config().storage``). With an account URL and neither
    a key nor a SAS, Entra ID is used through ``azure.identity.DefaultAzureCredential``.

    Parameters
    ----------
    connection_string, account_url, account_key, sas_token, credential
        Ways to authenticate; ``credential`` may be any azure-core token credential.
    container, prefix : str
        The workspace's container and the folder of projects inside it.
    quota_bytes : int, optional
        Refuse uploads that would take the whole prefix past this size.
    concurrency : int
        Parallel transfers.
    retry_total, retry_backoff, timeout
        Retries of a failed request, the first wait between them (seconds), and the socket timeout.

    Returns
    -------
    CloudWorkspace

    Raises
    ------
    CredentialsError
        When nothing is configured, or the service refuses the credentials.
    ConfigError
        When Entra ID is asked for but azure-identity is not installed.
    CloudUnavailableError
        When the service cannot be reached.
    """
    from azure.storage.blob import BlobServiceClient

    storage = (settings or load_config()).storage
    secret = lambda value: value.get_secret_value() if value is not None else None  # noqa: E731
    if not any((connection_string, account_url, credential)):
        connection_string = secret(storage.connection_string)
        account_url = storage.account_url
        account_key = account_key or secret(storage.account_key)
        sas_token = sas_token or secret(storage.sas_token)
    container = check_container_name(container or storage.container)
    prefix = storage.prefix if prefix is None else prefix
    quota_bytes = storage.quota_bytes if quota_bytes is None else quota_bytes
    stats = TransferStats()
    options = dict(retry_policy=_retry_policy(retry_total, retry_backoff), connection_timeout=min(timeout, 20),
                   read_timeout=timeout, transport=_transport(concurrency),
                   raw_request_hook=stats.on_request, raw_response_hook=stats.on_response)
    token_credential = None
    try:
        if connection_string:
            service = BlobServiceClient.from_connection_string(connection_string, **options)
            key = getattr(service.credential, "account_key", None)
            auth = "key" if key else "sas"
        elif account_url:
            url = account_url.rstrip("/")
            if account_key:
                from azure.core.credentials import AzureNamedKeyCredential

                name = _account_name(url)
                service = BlobServiceClient(url, credential=AzureNamedKeyCredential(name, account_key), **options)
                key, auth = account_key, "key"
            elif sas_token or "sig=" in url:
                service = BlobServiceClient(url, credential=sas_token.lstrip("?") if sas_token else None, **options)
                key, auth = None, "sas"
            else:
                token_credential = credential or _entra_credential()
                service = BlobServiceClient(url, credential=token_credential, **options)
                key, auth = None, "entra"
        else:
            raise CredentialsError(_NOT_CONFIGURED)
    except (CredentialsError, ConfigError):
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the Azure Storage settings are not usable: {mask_secret_text(str(exc))}; check "
                          "AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL") from None
    workspace = CloudWorkspace(service, container, prefix=prefix, auth=auth, account_key=key,
                               credential=token_credential, stats=stats, concurrency=concurrency,
                               quota_bytes=quota_bytes, use_snapshots=use_snapshots)
    if create_container:
        workspace.ensure_container()
    return workspace


def _account_name(url: str) -> str:
    """The account name in an account URL: the first label of the host, or the first path segment of
    an emulator-style URL (``http://127.0.0.1:10000/devstoreaccount1``).

    Examples
    --------
    >>> _account_name("https://acct.blob.core.windows.net")
    'acct'
    >>> _account_name("http://127.0.0.1:10000/devstoreaccount1")
    'devstoreaccount1'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in ("localhost", "host.docker.internal") or host.replace(".", "").isdigit() or ":" in host:
        return parts.path.strip("/").split("/")[0]
    return host.split(".")[0]


def _entra_credential():
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ConfigError("Entra ID sign-in needs azure-identity: pip install 'imagestudio-nb[entra]' "
                          "(or give a connection string, an account key or a SAS)") from None
    return DefaultAzureCredential()


@contextmanager
def translate_errors(workspace: CloudWorkspace | None, action: str) -> Iterator[None]:
    """Turn Azure SDK exceptions into toolkit errors whose text holds no secret and says what to do."""
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ServiceRequestError,
                                       ServiceResponseError)

    where = workspace.url if workspace is not None else "Azure Blob Storage"
    try:
        yield
    except (ServiceRequestError, ServiceResponseError):
        raise CloudUnavailableError(f"cannot reach {where} while {action}: your work is saved locally; "
                                    "sync again when the storage is reachable") from None
    except ClientAuthenticationError:
        raise CredentialsError(f"{where} refused the credentials while {action}: check "
                               "AZURE_STORAGE_CONNECTION_STRING (or the account key / SAS token) and its expiry") from None
    except HttpResponseError as exc:
        code = getattr(exc, "error_code", None) or ""
        code = getattr(code, "value", code)
        if exc.status_code == 403:
            raise CredentialsError(f"{where} refused {action} ({code or 'forbidden'}): the credentials lack the "
                                   "permission or have expired; check AZURE_STORAGE_SAS_TOKEN or the account key") from None
        error = CloudError(f"{action} failed at {where}: HTTP {exc.status_code} {code}".rstrip())
        error.status_code = exc.status_code
        error.error_code = code
        raise error from None
