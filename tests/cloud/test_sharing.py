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


def _gallery(link) -> tuple[str, list[str], str]:
    """The page, its image URLs and its document URL."""
    import re

    page = _get(link.url).decode()
    images = [url.replace("&amp;", "&") for url in re.findall(r'src="([^"]+)"', page)]
    document = re.search(r'<a href="([^"]+)">project document</a>', page).group(1).replace("&amp;", "&")
    return page, images, document


def test_a_gallery_link_keeps_showing_what_was_shared_after_later_pushes(cloud, machines):
    from imagestudio_nb.cloud import clean

    project = make_project("Frozen", machines[0], assets=3)
    push(project, cloud, progress=False)
    link = share(project, cloud, expires_in=3600)
    page, images, document_url = _gallery(link)
    shown = {sha256_hex(_get(url)) for url in images}
    document = _get(document_url)
    assert shown == {info.hash for info in project.assets.list()} and b"Layer 2" in document

    # Later work: a layer removed (and its asset cleaned away locally and in the cloud), one renamed, one added.
    layers = project.layers()
    project.remove_layer(layers[0]["id"])
    project.update_layer(layers[1]["id"], name="Renamed later")
    from .conftest import noise_png

    added = project.assets.add(noise_png(55))
    project.add_layer("image", asset=added.hash, name="Added later")
    project.clean_assets(dry_run=False)
    push(project, cloud, progress=False)
    removed = layers[0]["asset"]
    assert removed not in {info.hash for info in project.assets.list()}
    assert clean("Frozen", cloud, dry_run=False, keep_versions=0, min_age=0)["assets"] == []

    assert _get(link.url).decode() == page
    assert _get(document_url) == document
    assert {sha256_hex(_get(url)) for url in images} == shown  # every image still there, unchanged
    # The live project did change: a new link shows the new state (the old one is not merely stale by accident).
    newer_page, newer_images, _ = _gallery(share(project, cloud, expires_in=3600))
    assert "Added later" in newer_page and "Renamed later" in newer_page and "Renamed later" not in page
    assert added.hash in {sha256_hex(_get(url)) for url in newer_images}
    # Only the share kept the removed layer's image: once it is revoked, clean-up may take it.
    revoke(link.id, cloud)
    assert [a["hash"] for a in clean("Frozen", cloud, min_age=0)["assets"]] == [removed]


def test_revoking_a_gallery_removes_its_frozen_copy(cloud, machines):
    from imagestudio_nb.cloud.layout import ProjectLayout

    project = make_project("Unfrozen", machines[0], assets=1)
    push(project, cloud, progress=False)
    link = share(project, cloud, expires_in=3600)
    folder = ProjectLayout(cloud.prefix, project.id).share_root(link.id)
    assert sorted(n.rsplit("/", 1)[1] for n in cloud.container.list_blob_names(name_starts_with=folder)) == [
        "index.html", "project.isproj"]
    revoke(link.id, cloud)
    assert list(cloud.container.list_blob_names(name_starts_with=folder)) == []


def test_clean_up_drops_the_frozen_copy_of_an_expired_share_and_what_only_it_kept(cloud, machines):
    from imagestudio_nb.cloud import clean
    from imagestudio_nb.cloud.layout import ProjectLayout

    project = make_project("Expired gallery", machines[0], assets=2)
    push(project, cloud, progress=False)
    gone = project.layers()[0]
    expired = share(project, cloud, expires_in=2, revocable=False)
    live = share(project, cloud, asset=project.layers()[1]["asset"], expires_in=3600)
    project.remove_layer(gone["id"])
    project.clean_assets(dry_run=False)
    push(project, cloud, progress=False)
    assert clean("Expired gallery", cloud, keep_versions=0, min_age=0)["assets"] == []  # the share still shows it
    time.sleep(3)
    assert _status(expired.url) == 403

    report = clean("Expired gallery", cloud, dry_run=False, keep_versions=0, min_age=0)
    assert report["shares"] == [expired.id] and [a["hash"] for a in report["assets"]] == [gone["asset"]]
    folder = ProjectLayout(cloud.prefix, project.id).share_root(expired.id)
    assert list(cloud.container.list_blob_names(name_starts_with=folder)) == []
    assert _status(live.url) == 200  # a live share is untouched
