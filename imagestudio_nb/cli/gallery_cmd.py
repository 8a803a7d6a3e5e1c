"""``imagestudio gallery ...``: publish projects as a public static gallery, remix one from its link."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidArgumentError
from ._output import JsonOption, print_json

gallery_app = typer.Typer(help="Publish a public gallery of projects and remix projects from one.", no_args_is_help=True)


@gallery_app.command("publish")
def publish_command(
    names: Annotated[list[str], typer.Argument(help="Local projects to publish.")],
    to: Annotated[Optional[Path], typer.Option("--to", help="Write the site into this folder.")] = None,
    web: Annotated[bool, typer.Option("--web", help="Upload the site to the storage account's $web container.")] = False,
    cdn_base_url: Annotated[Optional[str], typer.Option("--cdn-base-url", help="Absolute URL every link starts with "
                                                        "(default: [gallery] cdn_base_url).")] = None,
    json_output: JsonOption = False,
):
    """Freeze the projects and write their pages, snapshots and images, plus the gallery's index."""
    from ..cloud import connect, publish_gallery

    if (to is None) == (not web):
        raise InvalidArgumentError("say where to publish: --to FOLDER or --web (one of them)")
    publication = publish_gallery(names, connect() if web else to, cdn_base_url=cdn_base_url)
    if json_output:
        print_json(publication.as_dict())
        return
    for project in publication.projects:
        print(f"{project.name}: {project.page_url} ({project.images} images, snapshot {project.snapshot_sha256[:12]})")
    print(f"index: {publication.index_url}")


@gallery_app.command("remix")
def remix_command(
    link: Annotated[str, typer.Argument(help="A project page of a gallery (or its snapshot.json): URL or path.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the new local project.")] = None,
    json_output: JsonOption = False,
):
    """Clone a published project into your workspace, with a new id and its lineage (forked_from)."""
    from ..cloud import remix

    project = remix(link, name=name)
    origin = project.meta["forked_from"]
    if json_output:
        print_json({"name": project.name, "id": project.id, "path": str(project.path), "forked_from": origin})
    else:
        print(f"remixed {origin['name']!r} ({origin['id']}) into {project.name!r} ({project.id}) at {project.path}")


def register(app: typer.Typer) -> None:
    app.add_typer(gallery_app, name="gallery")
