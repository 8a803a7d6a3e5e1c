"""Share links: read-only, expiring, revocable; a gallery beside the project."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from imagestudio_nb.cloud import list_shares, push, revoke, share
from imagestudio_nb.cloud.layout import sha256_hex
from imagestudio_nb.cloud.sharing import MAX_POLICIES
from imagestudio_nb.errors import CloudError, InvalidArgumentError, ProjectNotFoundError

from .conftest import make_project


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _status(url: str, method: str = "GET", data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data, method=method, headers={"x-ms-blob-type": "BlockBlob"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_project_link_opens_a_gallery_whose_images_are_readable(cloud, machines):
    project = make_project("Gallery", machines[0], assets=3)
    push(project, cloud, progress=False)
    link = share(project, cloud, expires_in=3600)
    page = _get(link.url).decode()
    assert page.count("<figure>") == 3 and "Layer 2" in page
    import re

    urls = sorted(set(re.findall(r'src="([^"]+)"', page)))
    assert len(urls) == 3
    hashes = {sha256_hex(_get(url.replace("&amp;", "&"))) for url in urls}
    assert hashes == {info.hash for info in project.assets.list()}


def test_links_are_read_only(cloud, machines):
    project = make_project("Read only", machines[0], assets=1)
    push(project, cloud, progress=False)
    asset = project.assets.list()[0]
    link = share(project, cloud, asset=asset.hash[:10], expires_in=600)
    assert _get(link.url) == project.assets.read(asset.hash)
    assert _status(link.url, "PUT", b"overwritten") == 403
    assert _status(link.url, "DELETE") == 403
    assert _get(link.url) == project.assets.read(asset.hash)


def test_links_expire(cloud, machines):
    project = make_project("Expiring", machines[0], assets=1)
    push(project, cloud, progress=False)
    asset = project.assets.list()[0].hash
    links = [share(project, cloud, asset=asset, expires_in=2, revocable=r) for r in (True, False)]
    assert all(_status(link.url) == 200 for link in links)
    time.sleep(3)
    assert [_status(link.url) for link in links] == [403, 403]
    assert not any(s["active"] for s in list_shares(cloud))


def test_revoking_a_share_ends_every_url_of_it(cloud, machines):
    project = make_project("Revoked", machines[0], assets=2)
    push(project, cloud, progress=False)
    gallery = share(project, cloud, expires_in=3600)
    other = share(project, cloud, asset=project.assets.list()[0].hash, expires_in=3600)
    page = _get(gallery.url).decode()
    asset_url = page.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert _status(asset_url) == 200

    assert revoke(gallery.id, cloud)["revoked"]
    assert _status(gallery.url) in (403, 404) and _status(asset_url) == 403
    assert _status(other.url) == 200  # other shares are untouched
    assert [s["id"] for s in list_shares(cloud)] == [other.id]


def test_the_policy_limit_is_explained(cloud, machines):
    project = make_project("Many", machines[0], assets=1)
    push(project, cloud, progress=False)
    asset = project.assets.list()[0].hash
    links = [share(project, cloud, asset=asset, expires_in=600) for _ in range(MAX_POLICIES)]
    with pytest.raises(CloudError, match="sync revoke"):
        share(project, cloud, asset=asset, expires_in=600)
    revoke(links[0].id, cloud)
    assert share(project, cloud, asset=asset, expires_in=600).revocable


def test_sharing_needs_a_pushed_project_and_a_sane_expiry(cloud, machines):
    project = make_project("Unpushed", machines[0], assets=1)
    with pytest.raises(ProjectNotFoundError, match="sync push"):
        share(project, cloud)
    with pytest.raises(InvalidArgumentError, match="allowed"):
        share(project, cloud, expires_in=0)
