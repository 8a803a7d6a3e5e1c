"""The public gallery: a static site in a folder or a `$web` container, frozen snapshots, escaped text, CDN links."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import html5lib
import numpy as np
import pytest

from imagestudio_nb import generate
from imagestudio_nb.cli import main
from imagestudio_nb.cloud import connect, publish_gallery, published_projects
from imagestudio_nb.cloud.layout import sha256_hex
from imagestudio_nb.errors import InvalidArgumentError, ProjectNotFoundError
from imagestudio_nb.imaging.codec import decode_image
from imagestudio_nb.project import Project

from .conftest import container_name, make_project

HOSTILE_PROMPT = 'a fox <script>alert("pwned")</script> at "dawn" & \'dusk\''
HOSTILE_LAYER = '"><img src=x onerror=alert(1)> layer'


def hostile_project(name: str, workspace: Path) -> Project:
    """A project with a generated pair (provenance with a hostile prompt), a hostile layer name, an upload."""
    project = make_project(name, workspace, assets=1, seed=5)
    results = generate(HOSTILE_PROMPT, seed=11, n=2, size="1024x1024", project=project, progress=False)
    for result in results:
        project.add_layer("image", asset=result.asset, name=HOSTILE_LAYER)
    return project


def parse_strict(page: bytes):
    """The page's tree; any HTML5 parse error fails."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


def links_of(page: bytes) -> list[str]:
    tree = parse_strict(page)
    return [element.get(attr) for element in tree.iter() for attr in ("href", "src") if element.get(attr)]


def site_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_publishes_two_projects_to_a_folder_with_pages_index_and_images(tmp_path):
    workspace, site = tmp_path / "ws", tmp_path / "site"
    first, second = hostile_project("Foxes", workspace), make_project("Noise", workspace, assets=2, seed=9)
    published = publish_gallery(["Foxes", second], site, local_workspace=workspace)

    assert [p.name for p in published.projects] == ["Foxes", "Noise"]
    index = (site / "index.html").read_bytes()
    index_links = links_of(index)
    for project, entry in zip((first, second), published.projects):
        page_path = site / "p" / project.id / "index.html"
        assert entry.page_url == page_path.as_uri() and f"p/{project.id}/index.html" in index_links
        page = page_path.read_bytes()
        tree = parse_strict(page)
        # Every link of the page resolves to a file of the site (relative links: the folder can move).
        for link in links_of(page):
            assert not link.startswith(("/", "file:", "http")), link
            assert Path(urljoin(page_path.as_uri(), link).removeprefix("file://")).is_file(), link
        # The images are the assets' bytes, one per asset of the project.
        sources = [img.get("src") for img in tree.iter("img")]
        composite, images = sources[0], sources[1:]
        found = {sha256_hex((page_path.parent / src).read_bytes()) for src in images}
        assert found == {info.hash for info in project.assets.list()}
        # The composite is what Project.render() draws.
        drawn = decode_image((page_path.parent / composite).read_bytes(), mode="RGBA")
        np.testing.assert_array_equal(drawn, project.render())
    assert all(link and Path(urljoin((site / "index.html").as_uri(), link).removeprefix("file://")).is_file()
               for link in index_links)
    parse_strict(index)
    assert {e["name"] for e in published_projects(site)} == {"Foxes", "Noise"}


def test_pages_escape_hostile_text_and_show_provenance(tmp_path):
    workspace, site = tmp_path / "ws", tmp_path / "site"
    project = hostile_project("Hostile", workspace)
    publish_gallery([project], site, local_workspace=workspace)
    page = (site / "p" / project.id / "index.html").read_bytes()
    tree = parse_strict(page)

    assert not list(tree.iter("script")), "the prompt's <script> became an element"
    assert not [e for e in tree.iter() if any(k.startswith("on") for k in e.attrib)], "an event handler attribute"
    assert len(list(tree.iter("img"))) == 1 + 3  # the composite and the three assets, nothing injected
    text = page.decode()
    assert "<script>" not in text and 'onerror=alert(1)>' not in text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in text
    # Provenance per generated image: prompt, model, seed, size, user, time, read as the visitor reads it.
    record = project.generations()[0]
    cards = [figure for figure in tree.iter("figure") if figure.find(".//dl") is not None]
    generated = [card for card in cards if "Prompt" in [dt.text for dt in card.iter("dt")]]
    assert len(generated) == 2
    for position, card in enumerate(sorted(generated, key=lambda c: c.find(".//img").get("src"))):
        fields = dict(zip([dt.text for dt in card.iter("dt")], ["".join(dd.itertext()) for dd in card.iter("dd")]))
        assert fields["Prompt"] == HOSTILE_PROMPT
        assert fields["Model"] == f"{record['provider']}/{record['model']}"
        assert fields["Seed"] in {str(seed) for seed in record["seeds"]}
        assert fields["Size"] == "1024x1024" and fields["User"] == record["user"] == "tester"
        assert fields["Time"] == record["created"] and fields["Layers"] == HOSTILE_LAYER


def test_a_published_page_is_frozen_until_published_again(tmp_path):
    workspace, site = tmp_path / "ws", tmp_path / "site"
    project = make_project("Frozen", workspace, assets=2)
    first = publish_gallery(["Frozen"], site, local_workspace=workspace).projects[0]
    before = site_files(site)

    layer = project.layers()[0]["id"]
    project.update_layer(layer, name="Renamed after publishing")
    project.remove_layer(project.layers()[1]["id"])
    project.add_layer("image", asset=project.assets.add(np.zeros((8, 8, 3), np.uint8)).hash, name="New")
    project.save()
    assert site_files(site) == before  # nothing published changed

    second = publish_gallery(["Frozen"], site, local_workspace=workspace).projects[0]
    after = site_files(site)
    assert second.snapshot_sha256 != first.snapshot_sha256
    page = after[f"p/{project.id}/index.html"].decode()
    assert "Renamed after publishing" in page and "Renamed after publishing" not in before[f"p/{project.id}/index.html"].decode()
    for name, data in before.items():  # every file of the old snapshot stays as it was, still linkable
        if "/snapshots/" in name or "/assets/" in name:
            assert after[name] == data, name
    assert len({n.split("/snapshots/")[1].split("/")[0] for n in after if "/snapshots/" in n}) == 2


def test_cdn_base_url_is_used_in_every_link(tmp_path):
    workspace, site = tmp_path / "ws", tmp_path / "site"
    make_project("Cdn", workspace, assets=2)
    make_project("Other", workspace, assets=1, seed=3)
    cdn = "https://cdn.example.com/gallery"
    published = publish_gallery(["Cdn", "Other"], site, local_workspace=workspace, cdn_base_url=cdn + "/")
    pages = [path for path in site.rglob("*.html")]
    assert len(pages) == 3
    for path in pages:
        links = links_of(path.read_bytes())
        assert links and all(link.startswith(cdn + "/") for link in links), (path, links)
        for link in links:  # and each names a file the site holds at that place
            assert (site / link.removeprefix(cdn + "/")).is_file(), link
    assert all(p.page_url.startswith(cdn + "/p/") and p.snapshot_url.startswith(cdn + "/") for p in published.projects)
    manifests = [json.loads(path.read_bytes()) for path in site.rglob("snapshot.json")]
    assert manifests and all(m["page"].startswith(cdn + "/p/") for m in manifests)


def test_cdn_base_url_comes_from_the_configuration(tmp_path, monkeypatch):
    config = tmp_path / "gallery-config.toml"
    config.write_text('[gallery]\ncdn_base_url = "https://cdn.example.org/g"\n')
    monkeypatch.setenv("IMAGESTUDIO_CONFIG", str(config))
    make_project("Configured", tmp_path / "ws", assets=1)
    publish_gallery(["Configured"], tmp_path / "site", local_workspace=tmp_path / "ws")
    links = links_of((tmp_path / "site" / "index.html").read_bytes())
    assert links and all(link.startswith("https://cdn.example.org/g/") for link in links)
    with pytest.raises(InvalidArgumentError, match="absolute http"):
        publish_gallery(["Configured"], tmp_path / "site", local_workspace=tmp_path / "ws", cdn_base_url="cdn.example.org")


def test_an_unknown_project_is_refused_before_anything_is_written(tmp_path):
    make_project("Real", tmp_path / "ws", assets=1)
    with pytest.raises(ProjectNotFoundError, match="Nope"):
        publish_gallery(["Real", "Nope"], tmp_path / "site", local_workspace=tmp_path / "ws")
    assert not (tmp_path / "site").exists()
    with pytest.raises(InvalidArgumentError, match="no project"):
        publish_gallery([], tmp_path / "site", local_workspace=tmp_path / "ws")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.fixture
def web(azurite, request):
    """A workspace on Azurite whose `$web` container serves blobs anonymously, as static website hosting does.

    The session's Azurite has one `$web`: tests share it and assert only on their own projects.
    """
    from azure.core.exceptions import ResourceExistsError

    workspace = connect(connection_string=azurite.connection_string, container=container_name(request),
                        retry_total=1, retry_backoff=0.05, timeout=10)
    try:
        workspace.service.get_container_client("$web").create_container(public_access="blob")
    except ResourceExistsError:
        pass
    return workspace


def test_publishes_to_the_web_container_on_azurite(web, tmp_path):
    workspace = tmp_path / "ws"
    projects = [hostile_project("Web one", workspace), make_project("Web two", workspace, assets=2, seed=4)]
    published = publish_gallery(projects, web, local_workspace=workspace)
    container = web.service.get_container_client("$web")
    assert published.index_url == container.get_blob_client("index.html").url
    index = _get(published.index_url)
    for project, entry in zip(projects, published.projects):
        assert f"p/{project.id}/index.html".encode() in index
        page = _get(entry.page_url)  # served anonymously, as a public gallery is
        tree = parse_strict(page)
        assert not list(tree.iter("script"))
        sources = [img.get("src") for img in tree.iter("img")][1:]
        assert {sha256_hex(_get(urljoin(entry.page_url, src))) for src in sources} == \
            {info.hash for info in project.assets.list()}
        blob = container.get_blob_client(f"p/{project.id}/index.html").get_blob_properties()
        assert blob.content_settings.content_type.startswith("text/html")


def test_gallery_commands_publish_and_refuse_a_missing_target(tmp_path, capsys):
    make_project("Cli one", tmp_path / "workspace", assets=1)
    make_project("Cli two", tmp_path / "workspace", assets=1, seed=2)
    assert main(["gallery", "publish", "Cli one", "Cli two", "--to", str(tmp_path / "site"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in out["projects"]] == ["Cli one", "Cli two"]
    assert all(Path(p["page_url"].removeprefix("file://")).is_file() for p in out["projects"])
    assert main(["gallery", "publish", "Cli one"]) != 0
    assert "--to FOLDER or --web" in capsys.readouterr().err
    assert main(["gallery", "publish", "Missing", "--to", str(tmp_path / "other")]) != 0
    assert not (tmp_path / "other").exists()
    assert re.search(r"no project 'Missing'", capsys.readouterr().err)


def test_gallery_publish_to_the_web_container_from_the_terminal(web, azurite, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    project = make_project("Cli web", tmp_path / "workspace", assets=2, seed=6)
    assert main(["gallery", "publish", "Cli web", "--web", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)["projects"][0]
    assert "/%24web/p/" in entry["page_url"] and entry["id"] == project.id
    tree = parse_strict(_get(entry["page_url"]))
    sources = [img.get("src") for img in tree.iter("img")][1:]
    assert {sha256_hex(_get(urljoin(entry["page_url"], src))) for src in sources} == \
        {info.hash for info in project.assets.list()}
    assert main(["gallery", "publish", "Cli web", "--web", "--to", str(tmp_path / "both")]) != 0
