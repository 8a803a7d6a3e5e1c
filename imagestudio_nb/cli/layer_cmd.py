"""``imagestudio layer ...``: list, add, remove, restore and move a project's layers from the terminal.

Each command is one ``Project`` call, so it goes through the project's update log like any other writer:
it is safe to run while a kernel or a collaborative room has the project open.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table

layer_app = typer.Typer(help="List, add, remove (restorably), restore, purge and move layers.", no_args_is_help=True)


@layer_app.command("list")
def list_layers(project: str, deleted: Annotated[bool, typer.Option("--deleted", help="List the deleted layers "
                                                                    "(restorable) instead.")] = False,
                json_output: JsonOption = False):
    """The layers, bottom first (or the deleted ones)."""
    from ..project import Project

    opened = Project.open(project)
    rows = opened.deleted_layers() if deleted else opened.layers()
    if json_output:
        print_json(rows)
    elif not rows:
        print("no deleted layers" if deleted else "no layers yet: `imagestudio layer add PROJECT KIND`")
    else:
        columns = ["id", "name", "kind", "deleted_by", "deleted_at"] if deleted else ["id", "name", "kind", "visible",
                                                                                        "opacity", "blend_mode"]
        print_table(rows, columns, title="Deleted layers" if deleted else "Layers")


@layer_app.command("add")
def add(project: str, kind: Annotated[str, typer.Argument(help="image, generated, paint, text or mask.")] = "paint",
        name: Annotated[Optional[str], typer.Option(help="The layer's name.")] = None,
        asset: Annotated[Optional[str], typer.Option(help="A stored asset's hash (or unique prefix).")] = None,
        json_output: JsonOption = False):
    """Add a layer on top; prints its id."""
    from ..project import Project

    layer_id = Project.open(project).add_layer(kind, name=name, asset=asset)
    print_json({"id": layer_id}) if json_output else print(layer_id)


@layer_app.command("remove")
def remove(project: str, layer_id: str):
    """Delete a layer (restorable with `imagestudio layer restore`)."""
    from ..project import Project

    Project.open(project).remove_layer(layer_id)
    print(f"deleted layer {layer_id} (restore it with `imagestudio layer restore {project} {layer_id}`)")


@layer_app.command("restore")
def restore(project: str, layer_id: str):
    """Bring a deleted layer back, with every stroke made on it meanwhile."""
    from ..project import Project

    Project.open(project).restore_layer(layer_id)
    print(f"restored layer {layer_id}")


@layer_app.command("purge")
def purge(project: str, layer_ids: Annotated[Optional[list[str]], typer.Argument(help="Deleted layers to remove "
                                                                                 "for good (default: all).")] = None):
    """Remove deleted layers for good (they can no longer be restored)."""
    from ..project import Project

    purged = Project.open(project).purge_deleted_layers(layer_ids or None)
    print(f"purged {len(purged)} deleted layer(s)" + (f": {', '.join(purged)}" if purged else ""))


@layer_app.command("move")
def move(project: str, layer_id: str, index: Annotated[int, typer.Argument(help="New position, 0 is the bottom.")]):
    """Move a layer to a position among the layers shown."""
    from ..project import Project

    Project.open(project).move_layer(layer_id, index)
    print(f"moved layer {layer_id} to {index}")


def register(app: typer.Typer) -> None:
    app.add_typer(layer_app, name="layer")
