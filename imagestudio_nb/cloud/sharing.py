"""Share links: read-only, time-limited SAS URLs for a project (as a static HTML gallery) or one asset.

A gallery shows the project as it was when it was shared: the document is frozen into the share's own
create-only blob (``shares/<id>/project.isproj``) and the page names content-addressed assets, which are
never rewritten, so a later push cannot change what a link shows (``clean`` keeps what shares name).
With an account key, a link is tied to a stored access policy on the container, so deleting the
policy revokes every URL of that share at once (the service allows five policies per container);
with Entra ID it is a user-delegation SAS that lapses at its expiry. Links only ever grant read.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..errors import CloudError, InvalidArgumentError, NotFoundError, ProjectNotFoundError
from .connection import CloudWorkspace, connect, translate_errors
from .documents import RemoteDocument, read_remote
from .layout import ProjectLayout, document_assets
from .migration import locate

if TYPE_CHECKING:
    from ..project import Project

MAX_POLICIES = 5  # the service's limit of stored access policies per container
MAX_EXPIRY = timedelta(days=365)


@dataclass
class ShareLink:
    """A share: its id (the stored access policy, if revocable), URL, expiry and what it shows."""

    id: str
    url: str
    expires: str
    project: str
    asset: str | None = None
    revocable: bool = False
    project_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return self.url


def gallery_html(data: dict[str, Any], *, url_for: Callable[[str, str], str], document_url: str,
                 expires: str) -> str:
    """A self-contained HTML page showing a project's assets, each linked with its own read-only URL.

    Examples
    --------
    >>> page = gallery_html({"meta": {"name": "<Demo>"}, "layers": [], "generations": [], "assets": {}},
    ...                     url_for=lambda d, e: f"https://x/{d}.{e}", document_url="https://x/doc", expires="soon")
    >>> "&lt;Demo&gt;" in page and "<Demo>" not in page
    True
    """
    esc = html.escape
    layer_names: dict[str, list[str]] = {}
    for layer in data.get("layers") or []:
        if layer.get("asset"):
            layer_names.setdefault(layer["asset"], []).append(layer.get("name") or "")
    prompts = {}
    for record in data.get("generations") or []:
        prompt = (record.get("request") or {}).get("prompt") or record.get("prompt")
        for digest in record.get("assets") or []:
            if prompt:
                prompts[digest] = prompt
    cards = []
    assets = data.get("assets") or {}
    for digest, extension in sorted(document_assets(data).items(), key=lambda kv: (assets[kv[0]].get("created", ""), kv[0])):
        info = assets[digest]
        caption = ", ".join(layer_names.get(digest, [])) or ", ".join(info.get("tags") or []) or digest[:12]
        detail = f"{info.get('width', '?')}×{info.get('height', '?')} {extension.upper()}"
        prompt = f"<p class=prompt>{esc(prompts[digest])}</p>" if digest in prompts else ""
        url = esc(url_for(digest, extension), quote=True)
        cards.append(f'<figure><a href="{url}"><img loading="lazy" src="{url}" alt="{esc(caption, quote=True)}"></a>'
                     f"<figcaption>{esc(caption)}<small>{esc(detail)}</small>{prompt}</figcaption></figure>")
    name = esc(str((data.get("meta") or {}).get("name", "Project")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{name}</title>
<style>body{{font:15px system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}}
main{{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:1rem}}
figure{{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;overflow:hidden}}
img{{width:100%;aspect-ratio:1;object-fit:contain;background:repeating-conic-gradient(#eee 0 25%,#fff 0 50%) 0 0/16px 16px}}
figcaption{{padding:.5rem}} small{{display:block;color:#777}} .prompt{{font-style:italic;margin:.3rem 0 0}}</style>
</head><body><h1>{name}</h1>
<p>{len(cards)} images · read-only link, valid until {esc(expires)} · <a href="{esc(document_url, quote=True)}">project document</a></p>
<main>
{chr(10).join(cards)}
</main></body></html>
"""


class _Signer:
    """Makes read-only SAS tokens for blobs of one workspace, bound to a policy when revocable."""

    def __init__(self, workspace: CloudWorkspace, expiry: datetime, policy_id: str | None):
        self.workspace, self.expiry, self.policy_id = workspace, expiry, policy_id
        self._delegation_key = None
        if workspace.auth == "entra":
            with translate_errors(workspace, "getting a user delegation key"):
                self._delegation_key = workspace.service.get_user_delegation_key(
                    datetime.now(timezone.utc) - timedelta(minutes=5), expiry)
        elif workspace.auth != "key" or not workspace._account_key:
            raise CloudError("share links need an account key or Entra ID; a SAS token cannot sign new links "
                             "(configure a connection string with AccountKey, or AZURE_STORAGE_ACCOUNT_URL with Entra ID)")

    def url(self, blob_name: str) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        workspace = self.workspace
        common = {"account_name": workspace.account_name, "container_name": workspace.container_name,
                  "blob_name": blob_name}
        if self.policy_id:
            token = generate_blob_sas(**common, account_key=workspace._account_key, policy_id=self.policy_id)
        elif self._delegation_key is not None:
            token = generate_blob_sas(**common, user_delegation_key=self._delegation_key,
                                      permission=BlobSasPermissions(read=True), expiry=self.expiry)
        else:
            token = generate_blob_sas(**common, account_key=workspace._account_key,
                                      permission=BlobSasPermissions(read=True), expiry=self.expiry)
        return f"{workspace.container.get_blob_client(blob_name).url}?{token}"


def _policies(workspace: CloudWorkspace) -> dict[str, Any]:
    with translate_errors(workspace, "reading the container's access policies"):
        identifiers = workspace.container.get_container_access_policy()["signed_identifiers"]
    return {item.id: item.access_policy for item in identifiers}


def _set_policies(workspace: CloudWorkspace, policies: dict[str, Any]) -> None:
    with translate_errors(workspace, "writing the container's access policies"):
        workspace.container.set_container_access_policy(signed_identifiers=policies)


def _add_policy(workspace: CloudWorkspace, share_id: str, expiry: datetime) -> None:
    from azure.storage.blob import AccessPolicy

    now = datetime.now(timezone.utc)
    policies = {key: policy for key, policy in _policies(workspace).items()
                if policy is None or policy.expiry is None or _as_datetime(policy.expiry) > now}
    if len(policies) >= MAX_POLICIES:
        raise CloudError(f"the container already has {len(policies)} revocable shares, the service's limit; revoke "
                         f"one first (`imagestudio sync revoke ID`): {', '.join(sorted(policies))}")
    policies[share_id] = AccessPolicy(permission="r", start=now - timedelta(minutes=5), expiry=expiry)
    _set_policies(workspace, policies)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _record_name(workspace: CloudWorkspace, share_id: str) -> str:
    return f"{workspace.prefix}.shares/{share_id}.json"


def share(project: Project | str, workspace: CloudWorkspace | None = None, *, asset: str | None = None,
          expires_in: float | timedelta = timedelta(days=7), revocable: bool | None = None) -> ShareLink:
    """Make a read-only link to a project's gallery (uploaded beside it) or to one of its assets.

    What is shared is what the cloud holds now: push first to share recent work. A project link shows
    a frozen copy of it; later pushes do not change what the link shows.

    Parameters
    ----------
    project : Project or str
        An open project, or the name or id of a project in the cloud.
    asset : str, optional
        A hash (or unique prefix of 6+ characters) to share one image instead of the whole project.
    expires_in : seconds or timedelta
        How long the link works (at most a year; Entra ID links at most 7 days).
    revocable : bool, optional
        Tie the link to a stored access policy so :func:`revoke` can end it early. By default, when the
        credentials allow it (an account key).

    Returns
    -------
    ShareLink
        ``str(link)`` is the URL to hand out.
    """
    workspace = workspace or connect()
    delta = expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=float(expires_in))
    if not timedelta(seconds=1) <= delta <= MAX_EXPIRY:
        raise InvalidArgumentError(f"expires_in={delta} is out of range; allowed: 1 second to {MAX_EXPIRY.days} days")
    if revocable is None:
        revocable = workspace.auth == "key"
    if revocable and workspace.auth != "key":
        raise CloudError("revocable links need an account key (stored access policies); with Entra ID or a SAS, "
                         "pass revocable=False: such a link lapses at its expiry")
    found = locate(workspace, project)
    name, layout = found.name, found.layout(workspace.prefix)
    remote = read_remote(workspace, layout)
    if remote is None:
        raise ProjectNotFoundError(f"project {name!r} is not in the cloud yet: `imagestudio sync push {name}` first")
    data = remote.data
    assets = document_assets(data)
    if asset is not None:
        matches = [d for d in assets if d == asset or (len(asset) >= 6 and d.startswith(asset))]
        if len(matches) != 1:
            raise NotFoundError(f"no single asset {asset!r} in the cloud copy of {name!r} "
                                f"({len(matches)} match; give a longer prefix or push first)")
        asset = matches[0]
    share_id = "is" + uuid.uuid4().hex[:10]
    expiry = (datetime.now(timezone.utc) + delta).replace(microsecond=0)
    if revocable:
        _add_policy(workspace, share_id, expiry)
    signer = _Signer(workspace, expiry, share_id if revocable else None)
    if asset is not None:
        url = signer.url(layout.asset(asset, assets[asset]))
    else:
        _freeze_gallery(workspace, layout, share_id, remote, signer, expiry)
        url = signer.url(layout.gallery(share_id))
    link = ShareLink(share_id, url, expiry.isoformat(), name, asset, revocable, found.id)
    record = {k: v for k, v in link.as_dict().items() if k != "url"}  # the record never holds a signature
    with translate_errors(workspace, "recording the share"):
        workspace.container.get_blob_client(_record_name(workspace, share_id)).upload_blob(
            json.dumps(record).encode(), overwrite=True)
    return link


def _freeze_gallery(workspace: CloudWorkspace, layout: ProjectLayout, share_id: str, remote: RemoteDocument,
                    signer: _Signer, expiry: datetime) -> None:
    """Upload the share's frozen document and its gallery page, both create-only (never rewritten)."""
    from azure.storage.blob import ContentSettings

    frozen = {"share_id": share_id, "project_id": remote.project_id, "json_sha256": remote.json_sha256,
              "ystate_sha256": remote.state_sha256}
    page = gallery_html(remote.data, url_for=lambda d, e: signer.url(layout.asset(d, e)),
                        document_url=signer.url(layout.share_document(share_id)), expires=expiry.isoformat())
    with translate_errors(workspace, "uploading the shared gallery"):
        workspace.container.upload_blob(
            layout.share_document(share_id), remote.text.encode("utf-8"), overwrite=False, metadata=frozen,
            content_settings=ContentSettings(content_type="application/json; charset=utf-8",
                                             cache_control="private, max-age=31536000, immutable"))
        workspace.container.upload_blob(
            layout.gallery(share_id), page.encode("utf-8"), overwrite=False, metadata={"share_id": share_id},
            content_settings=ContentSettings(content_type="text/html; charset=utf-8", cache_control="no-store"))


def list_shares(workspace: CloudWorkspace | None = None) -> list[dict[str, Any]]:
    """Shares made in this workspace: id, project, asset, expires, revocable and whether still active."""
    workspace = workspace or connect()
    policies = _policies(workspace)
    now = datetime.now(timezone.utc)
    shares = []
    with translate_errors(workspace, "listing shares"):
        for name in workspace.container.list_blob_names(name_starts_with=f"{workspace.prefix}.shares/"):
            record = json.loads(workspace.container.get_blob_client(name).download_blob().readall())
            expired = _as_datetime(record["expires"]) <= now
            revoked = record.get("revocable") and record["id"] not in policies
            record["active"] = not expired and not revoked
            shares.append(record)
    return sorted(shares, key=lambda r: r["expires"])


def revoke(share_id: str, workspace: CloudWorkspace | None = None) -> dict[str, Any]:
    """End a share: delete its stored access policy (every URL of it stops working) and its gallery page.

    A share made without a policy cannot be ended early; its gallery page is still removed.

    Raises
    ------
    NotFoundError
        When no share has that id.
    """
    from azure.core.exceptions import ResourceNotFoundError

    workspace = workspace or connect()
    record_blob = workspace.container.get_blob_client(_record_name(workspace, share_id))
    with translate_errors(workspace, f"revoking share {share_id}"):
        try:
            record = json.loads(record_blob.download_blob().readall())
        except ResourceNotFoundError:
            record = None
    policies = _policies(workspace)
    if record is None and share_id not in policies:
        raise NotFoundError(f"no share {share_id!r}; `imagestudio sync shares` lists them")
    revoked = share_id in policies
    if revoked:
        del policies[share_id]
        _set_policies(workspace, policies)
    with translate_errors(workspace, f"revoking share {share_id}"):
        if record and record.get("asset") is None:
            # Shares made before ids name the project's folder by its name.
            layout = ProjectLayout(workspace.prefix, record.get("project_id") or record["project"])
            for name in list(workspace.container.list_blob_names(name_starts_with=layout.share_root(share_id))):
                try:
                    workspace.container.get_blob_client(name).delete_blob()
                except ResourceNotFoundError:
                    pass
        try:
            record_blob.delete_blob()
        except ResourceNotFoundError:
            pass
    return {"id": share_id, "revoked": revoked,
            "note": None if revoked else "this link had no access policy: it stays valid until it expires"}
