"""Remix: a published project cloned from its gallery link, verified, with a new id, its lineage and shared Y history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pycrdt import Array, Doc

import imagestudio_nb
from imagestudio_nb.cli import main
from imagestudio_nb.cloud import publish_gallery, remix
from imagestudio_nb.cloud.layout import sha256_hex
from imagestudio_nb.errors import DataError, InvalidArgumentError, NotFoundError, ProjectExistsError
from imagestudio_nb.project import Project

from .conftest import make_project
from .test_gallery import HOSTILE_PROMPT, hostile_project, web  # noqa: F401 (fixture)


def _published(tmp_path: Path, name: str = "Source"):
    source = hostile_project(name, tmp_path / "publisher")
    entry = publish_gallery([source], tmp_path / "site", local_workspace=tmp_path / "publisher").projects[0]
    return source, entry


def _snapshot_dir(entry) -> Path:
    return Path(entry.snapshot_url.removeprefix("file://")).parent


def _everything(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def _comparable(project: Project) -> list[dict]:
    return [{k: v for k, v in layer.items()} for layer in project.layers()]


def test_remix_from_a_gallery_page_clones_layers_and_images_with_a_new_id_and_lineage(tmp_path):
    source, entry = _published(tmp_path)
    mine = tmp_path / "mine"
    copy = imagestudio_nb.remix(entry.page_url, workspace=mine)

    assert copy.name == "Source" and copy.id != source.id and len(copy.id) == 32
    assert _comparable(copy) == _comparable(source)
    assert copy.generations() == source.generations()
    assert {i.hash: copy.assets.read(i.hash) for i in copy.assets.list()} == \
        {i.hash: source.assets.read(i.hash) for i in source.assets.list()}
    origin = copy.meta["forked_from"]
    assert (origin["id"], origin["name"], origin["link"]) == (source.id, "Source", entry.page_url)
    assert origin["snapshot_sha256"] == entry.snapshot_sha256 and origin["at"]
    assert copy.roles() == {"tester": "owner"}
    copy.close()
    reopened = Project.open("Source", workspace=mine)  # the lineage is in the saved file and the log
    assert reopened.meta["forked_from"]["link"] == entry.page_url and reopened.id == copy.id
    assert [p.name for p in (mine).iterdir()] == ["Source"]  # no staging folder left


def test_the_remix_shares_its_y_history_with_the_snapshot(tmp_path):
    source, entry = _published(tmp_path)
    state = (_snapshot_dir(entry) / "project.ystate").read_bytes()
    copy = remix(entry.snapshot_url, name="Mine", workspace=tmp_path / "mine")
    copy.add_layer("paint", name="Added in the remix")

    published = Doc()
    published.apply_update(state)
    layers_before = len(published.get("layers", type=Array))
    published.apply_update(copy.doc.get_update())  # merging the remix back
    names = [layer["name"] for layer in published.get("layers", type=Array).to_py()]
    assert len(names) == layers_before + 1 and names.count("Added in the remix") == 1
    generations = published.get("generations", type=Array).to_py()
    assert len(generations) == len(source.generations())  # nothing doubled
    before = copy.doc.get_update()
    copy.merge_update(state)  # and the snapshot adds nothing the remix lacks
    assert len(copy.layers()) == layers_before + 1 and copy.doc.get_update() == before


def test_a_remix_from_the_web_container_on_azurite(web, tmp_path):  # noqa: F811 (fixture)
    source = hostile_project("Remote source", tmp_path / "publisher")
    entry = publish_gallery([source], web, local_workspace=tmp_path / "publisher").projects[0]
    assert entry.page_url.startswith("http://127.0.0.1:")
    copy = remix(entry.page_url, workspace=tmp_path / "mine")
    assert copy.id != source.id and copy.meta["forked_from"]["link"] == entry.page_url
    assert _comparable(copy) == _comparable(source)
    assert {i.hash for i in copy.assets.list()} == {i.hash for i in source.assets.list()}
    assert HOSTILE_PROMPT in [g["request"]["prompt"] for g in copy.generations()]

    # A byte flipped in an asset blob of the site is refused, and nothing reaches the workspace.
    container = web.service.get_container_client("$web")
    digest = source.assets.list()[0].hash
    name = next(n for n in container.list_blob_names(name_starts_with=f"p/{source.id}/assets/") if digest in n)
    data = bytearray(container.get_blob_client(name).download_blob().readall())
    data[len(data) // 2] ^= 0x01
    container.upload_blob(name, bytes(data), overwrite=True)
    with pytest.raises(DataError, match="does not match its SHA-256"):
        remix(entry.page_url, name="Tampered", workspace=tmp_path / "other")
    assert _everything(tmp_path / "other") == set()


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("victim", ["asset", "document", "state"])
def test_a_tampered_snapshot_is_refused_leaving_nothing_behind(tmp_path, victim):
    source, entry = _published(tmp_path)
    snapshot = _snapshot_dir(entry)
    if victim == "asset":
        _flip(next((snapshot.parent.parent / "assets").iterdir()))
    else:
        _flip(snapshot / ("project.isproj" if victim == "document" else "project.ystate"))
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(DataError, match="nothing was remixed"):
        remix(entry.page_url, workspace=mine)
    assert _everything(mine) == set()


def test_a_snapshot_whose_manifest_was_rewritten_to_match_an_edited_document_is_refused(tmp_path):
    source, entry = _published(tmp_path)
    snapshot = _snapshot_dir(entry)
    document = snapshot / "project.isproj"
    edited = document.read_text().replace("Layer 0", "Layer X")
    document.write_text(edited)
    manifest = json.loads((snapshot / "snapshot.json").read_text())
    manifest["document"]["sha256"] = sha256_hex(edited)
    (snapshot / "snapshot.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="does not match its Y state"):
        remix(entry.page_url, workspace=tmp_path / "mine")
    assert _everything(tmp_path / "mine") == set()


def test_a_forged_snapshot_with_an_unreadable_y_state_is_refused(tmp_path):
    source, entry = _published(tmp_path)
    snapshot = _snapshot_dir(entry)
    (snapshot / "project.ystate").write_bytes(b"not a Y update")
    manifest = json.loads((snapshot / "snapshot.json").read_text())
    manifest["state"]["sha256"] = sha256_hex(b"not a Y update")
    (snapshot / "snapshot.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="Y state cannot be read"):
        remix(entry.snapshot_url, workspace=tmp_path / "mine")
    assert _everything(tmp_path / "mine") == set()


def test_links_that_are_not_gallery_snapshots_are_refused(tmp_path):
    source, entry = _published(tmp_path)
    plain = tmp_path / "plain.html"
    plain.write_text("<!doctype html><title>x</title><link rel=alternate type=application/json href=project.isproj>")
    other_json = tmp_path / "other.json"
    other_json.write_text(json.dumps({"format": "something else"}))
    for link in (plain, other_json, tmp_path / "site" / "index.html", _snapshot_dir(entry) / "project.isproj"):
        with pytest.raises(InvalidArgumentError, match="not an? (gallery page|Image Studio gallery snapshot)"):
            remix(link, workspace=tmp_path / "mine")
    with pytest.raises(NotFoundError):
        remix(tmp_path / "site" / "p" / "nothing-here" / "index.html", workspace=tmp_path / "mine")
    with pytest.raises(InvalidArgumentError, match="http"):
        remix("ftp://example.com/p/x/index.html", workspace=tmp_path / "mine")
    assert _everything(tmp_path / "mine") == set()


def test_a_remix_never_overwrites_a_project_and_takes_another_name(tmp_path, capsys):
    source, entry = _published(tmp_path, name="Taken")
    workspace = tmp_path / "workspace"  # the CLI's workspace (IMAGESTUDIO_WORKSPACE of the test settings)
    make_project("Taken", workspace, assets=1)
    with pytest.raises(ProjectExistsError, match="another name"):
        remix(entry.page_url)
    with pytest.raises(ProjectExistsError):  # refused before anything is downloaded: the link is not even read
        remix(tmp_path / "no-such-page.html", name="Taken")
    assert main(["gallery", "remix", entry.page_url, "--name", "My take", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "My take" and out["forked_from"]["id"] == source.id
    assert sorted(p.name for p in workspace.iterdir()) == ["My take", "Taken"]
    assert main(["gallery", "remix", str(tmp_path / "nowhere.html")]) != 0
    assert "does not exist" in capsys.readouterr().err
