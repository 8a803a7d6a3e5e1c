"""``imagestudio project ...``: create, list, show, rename, delete, fork, export, import, checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table

project_app = typer.Typer(help="Create, inspect, version and move projects.", no_args_is_help=True)


@project_app.command("create")
def create(name: str, width: Annotated[int, typer.Option(help="Canvas width.")] = 1024,
           height: Annotated[int, typer.Option(help="Canvas height.")] = 1024, json_output: JsonOption = False):
    """Create an empty project."""
    from ..project import Project

    project = Project.create(name, width=width, height=height)
    if json_output:
        print_json({"name": project.name, "id": project.id, "path": str(project.path)})
    else:
        print(f"created project {project.name!r} at {project.path}")


@project_app.command("list")
def list_command(json_output: JsonOption = False):
    """List the projects in the workspace."""
    from ..project import list_projects

    rows = [{"name": p.name, "id": p.id, "created": p.created, "layers": p.layers, "generations": p.generations,
             "assets": p.assets, "path": str(p.path)} for p in list_projects()]
    if json_output:
        print_json(rows)
    elif not rows:
        print("no projects yet: `imagestudio project create NAME`")
    else:
        print_table(rows, ["name", "layers", "generations", "assets", "created"], title="Projects")


@project_app.command("show")
def show(name: str, json_output: JsonOption = False):
    """Show a project's meta, layers, checkpoints and recent generations."""
    from ..project import Project

    project = Project.open(name)
    data = {"meta": project.meta, "path": str(project.path), "layers": project.layers(),
            "checkpoints": project.checkpoints(), "generations": len(project.generations()),
            "assets": len(project.assets.list()), "comments": len(project.comments())}
    if json_output:
        print_json(data)
        return
    meta = project.meta
    print(f"{meta['name']}  id={meta['id']}  canvas={meta['canvas']['width']}x{meta['canvas']['height']}")
    if meta.get("forked_from"):
        print(f"forked from {meta['forked_from']['name']} ({meta['forked_from']['id']})")
    print(f"{data['assets']} assets, {data['generations']} generations, {data['comments']} comments")
    if data["layers"]:
        print_table([{**layer, "asset": (layer.get("asset") or "")[:12]} for layer in data["layers"]],
                    ["id", "name", "kind", "asset", "visible", "opacity", "blend_mode"], title="Layers")
    if data["checkpoints"]:
        print_table(data["checkpoints"], ["name", "created", "author", "note"], title="Checkpoints")


@project_app.command("rename")
def rename(name: str, new_name: str):
    """Rename a project."""
    from ..project import Project

    Project.open(name).rename(new_name)
    print(f"renamed {name!r} to {new_name!r}")


@project_app.command("delete")
def delete(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False):
    """Delete a project and all its assets."""
    from ..project import Project

    project = Project.open(name)
    if not yes and not typer.confirm(f"Delete project {name!r} and all its assets?"):
        raise typer.Abort()
    project.delete(confirm=True)
    print(f"deleted project {name!r}")


@project_app.command("fork")
def fork(name: str, new_name: str, json_output: JsonOption = False):
    """Copy a project under a new name and id, linked to its source."""
    from ..project import Project

    forked = Project.open(name).fork(new_name)
    if json_output:
        print_json({"name": forked.name, "id": forked.id, "forked_from": forked.meta["forked_from"]})
    else:
        print(f"forked {name!r} into {new_name!r} ({forked.id})")


@project_app.command("export")
def export(name: str, archive: Path, json_output: JsonOption = False):
    """Export a project (document and assets) to one .zip."""
    from ..project import Project

    path = Project.open(name).export(archive)
    if json_output:
        print_json({"archive": str(path), "bytes": path.stat().st_size})
    else:
        print(f"exported {name!r} to {path} ({path.stat().st_size:,} bytes)")


@project_app.command("import")
def import_command(archive: Path, name: Annotated[Optional[str], typer.Option(help="Import under this name.")] = None,
                   json_output: JsonOption = False):
    """Import a project from a .zip made by `project export`."""
    from ..project import import_project

    project = import_project(archive, name=name)
    if json_output:
        print_json({"name": project.name, "id": project.id, "path": str(project.path)})
    else:
        print(f"imported {project.name!r} ({len(project.assets.list())} assets) to {project.path}")


@project_app.command("checkpoint")
def checkpoint(name: str, label: str, note: Annotated[Optional[str], typer.Option(help="A note.")] = None,
               json_output: JsonOption = False):
    """Save the current state as a named checkpoint."""
    from ..project import Project

    summary = Project.open(name).checkpoint(label, note=note)
    if json_output:
        print_json(summary)
    else:
        print(f"checkpoint {label!r} saved in {name!r}")


@project_app.command("checkpoints")
def checkpoints(name: str, json_output: JsonOption = False):
    """List a project's checkpoints."""
    from ..project import Project

    rows = Project.open(name).checkpoints()
    if json_output:
        print_json(rows)
    else:
        print_table(rows, ["name", "created", "author", "note"], title=f"Checkpoints of {name}")


@project_app.command("diff")
def diff(name: str, a: str, b: Annotated[Optional[str], typer.Argument(help="Defaults to the current state.")] = None,
         json_output: JsonOption = False):
    """Show what changed between two checkpoints (or a checkpoint and now)."""
    from ..project import Project

    result = Project.open(name).diff(a, b)
    if json_output:
        print_json(result)
        return
    print(f"{result['from']} -> {result['to']}")
    for key in ("layers_added", "layers_removed"):
        for layer in result[key]:
            print(f"  {'+' if key == 'layers_added' else '-'} layer {layer['name']} ({layer['id']})")
    for layer_id, fields in result["layers_changed"].items():
        print(f"  ~ layer {layer_id}: {', '.join(fields)}")
    if result["layers_reordered"]:
        print("  ~ layer order")
    for key in ("meta_changed", "comments_added", "generations_added"):
        if result[key]:
            print(f"  {key.replace('_', ' ')}: {', '.join(result[key])}")


@project_app.command("restore")
def restore(name: str, label: str):
    """Bring a project back to a checkpoint (generations and assets are kept)."""
    from ..project import Project

    Project.open(name).restore(label)
    print(f"restored {name!r} to checkpoint {label!r}")


def register(app: typer.Typer) -> None:
    app.add_typer(project_app, name="project")
