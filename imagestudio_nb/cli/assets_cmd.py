"""``imagestudio assets ...``: list, search, tag, export and clean a project's assets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table

assets_app = typer.Typer(help="List, search, tag, export and clean a project's assets.", no_args_is_help=True)


@assets_app.command("list")
def list_command(project: str, tag: Annotated[Optional[str], typer.Option(help="Only assets with this tag.")] = None,
                 json_output: JsonOption = False):
    """List a project's assets."""
    from ..project import Project

    rows = [info.as_dict() for info in Project.open(project).assets.list(tag=tag)]
    if json_output:
        print_json(rows)
    else:
        print_table([{**r, "hash": r["hash"][:16], "size": f"{r['width']}x{r['height']}", "tags": ",".join(r["tags"])}
                     for r in rows], ["hash", "mime", "size", "bytes", "tags", "source", "created"],
                    title=f"Assets of {project}")


@assets_app.command("search")
def search(project: str, query: str,
           kind: Annotated[Optional[str], typer.Option(help="asset|generation|prompt")] = None,
           json_output: JsonOption = False):
    """Search prompts, models, tags and sources (every word must match, as a prefix)."""
    from ..project import Project

    rows = Project.open(project).search(query, kind=kind)
    if json_output:
        print_json(rows)
    elif not rows:
        print("no matches")
    else:
        print_table(rows, ["kind", "ref", "snippet"], title=f"Search {query!r}")


@assets_app.command("tag")
def tag(project: str, asset: str, tags: list[str], remove: Annotated[bool, typer.Option(help="Remove the tags.")] = False):
    """Add (or with --remove, take away) tags on an asset."""
    from ..project import Project

    store = Project.open(project).assets
    info = store.untag(asset, *tags) if remove else store.tag(asset, *tags)
    print(f"{info.hash[:16]}: {', '.join(info.tags) or '(no tags)'}")


@assets_app.command("export")
def export(project: str,
           items: Annotated[list[str], typer.Argument(metavar="[HASH]... DESTINATION",
                                                      help="Asset hashes (or unique prefixes), then a file or folder.")],
           all_assets: Annotated[bool, typer.Option("--all", help="Export every asset of the project into DESTINATION.")] = False,
           json_output: JsonOption = False):
    """Copy assets to a file or folder: one or more hashes, or --all into a folder."""
    from ..errors import InvalidArgumentError
    from ..project import Project

    *refs, destination = items
    destination = Path(destination)
    store = Project.open(project).assets
    if all_assets:
        if refs:
            raise InvalidArgumentError("give either asset hashes or --all, not both")
        refs = [info.hash for info in store.list()]
        destination.mkdir(parents=True, exist_ok=True)
    elif not refs:
        raise InvalidArgumentError("name the asset to export (a hash or unique prefix; `imagestudio assets list "
                                   f"{project}` shows them), or pass --all")
    elif len(refs) > 1:
        destination.mkdir(parents=True, exist_ok=True)
    paths = [str(store.export(ref, destination)) for ref in refs]
    if json_output:
        print_json({"path": paths[0] if len(paths) == 1 else None, "paths": paths})
    else:
        for path in paths:
            print(f"wrote {path}")
        if all_assets:
            print(f"exported {len(paths)} assets of {project!r} into {destination}")


@assets_app.command("clean")
def clean(project: str, dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
          json_output: JsonOption = False):
    """Remove assets that no layer, generation or checkpoint references."""
    from ..project import Project

    removed = Project.open(project).clean_assets(dry_run=dry_run)
    if json_output:
        print_json({"dry_run": dry_run, "assets": removed})
        return
    verb = "would remove" if dry_run else "removed"
    total = sum(r["bytes"] for r in removed)
    print(f"{verb} {len(removed)} unreferenced assets ({total:,} bytes)")
    for r in removed:
        print(f"  {r['hash']}")


def register(app: typer.Typer) -> None:
    app.add_typer(assets_app, name="assets")
