"""``imagestudio sync ...``: push, pull, now, status, auto, clone, list, migrate, verify, versions, restore, share,
usage, clean."""

from __future__ import annotations

import re
import time
from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table

sync_app = typer.Typer(help="Back up, sync, version and share projects on Azure Blob Storage.", no_args_is_help=True)

ProgressOption = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def _project(name: str):
    from ..project import Project

    return Project.open(name)


def _report(result, json_output: bool) -> None:
    data = result.as_dict()
    if json_output:
        print_json(data)
        return
    parts = [f"{data['action']} {data['project']!r}: {data['state']}"]
    if data.get("remote_findings"):
        parts.append("the cloud had lost work (" + "; ".join(data["remote_findings"]) + "), sent again")
    if data["uploaded_assets"]:
        parts.append(f"{data['uploaded_assets']} assets uploaded")
    if data["downloaded_assets"]:
        parts.append(f"{data['downloaded_assets']} assets downloaded")
    if data["merged_remote"]:
        parts.append("remote changes merged")
    if data["document_uploaded"]:
        parts.append(f"version {data['version']}")
    parts.append(f"{data['bytes_sent']:,} bytes sent, {data['bytes_received']:,} received")
    print("; ".join(parts))


@sync_app.command("push")
def push_command(project: str, progress: ProgressOption = True, json_output: JsonOption = False):
    """Upload new assets and the document; merges the cloud's changes first if it moved on."""
    from ..cloud import push

    _report(push(_project(project), progress=progress and not json_output), json_output)


@sync_app.command("pull")
def pull_command(project: str, progress: ProgressOption = True, json_output: JsonOption = False):
    """Merge the cloud's document into the local project and download the assets it needs."""
    from ..cloud import pull

    _report(pull(_project(project), progress=progress and not json_output), json_output)


@sync_app.command("now")
def now_command(project: str, progress: ProgressOption = True, json_output: JsonOption = False):
    """Pull then push: afterwards both sides hold the same merged project."""
    from ..cloud import sync

    _report(sync(_project(project), progress=progress and not json_output), json_output)


@sync_app.command("status")
def status_command(project: str, json_output: JsonOption = False):
    """Whether the project has local changes, remote changes, both, or is in sync."""
    from ..cloud import status

    info = status(_project(project))
    if json_output:
        print_json(info)
    else:
        print(f"{info['project']}: {info['state']} (last sync {info['last_sync'] or 'never'}; {info['remote']})")


@sync_app.command("clone")
def clone_command(project: Annotated[str, typer.Argument(help="The project's name, or its id when two share it.")],
                  progress: ProgressOption = True, json_output: JsonOption = False):
    """Restore a whole project from the cloud into the local workspace."""
    from ..cloud import clone

    cloned = clone(project, progress=progress and not json_output)
    data = {"name": cloned.name, "id": cloned.id, "path": str(cloned.path), "assets": len(cloned.assets.list()),
            "layers": len(cloned.layers())}
    if json_output:
        print_json(data)
    else:
        print(f"cloned {cloned.name!r} ({data['assets']} assets, {data['layers']} layers) to {cloned.path}")


@sync_app.command("list")
def list_command(json_output: JsonOption = False):
    """List the projects in the cloud workspace (name and id)."""
    from ..cloud import connect, list_cloud_projects

    workspace = connect(create_container=False)
    projects = list_cloud_projects(workspace)
    rows = [{"name": p.name, "id": p.id, "saved_at": p.saved_at, "old_layout": p.legacy} for p in projects]
    if json_output:
        print_json({"remote": f"{workspace.url}/{workspace.prefix}", "projects": rows})
    elif not rows:
        print(f"no projects in {workspace.url}/{workspace.prefix}")
    else:
        print_table(rows, ["name", "id", "saved_at", "old_layout"], title="Cloud projects")


@sync_app.command("migrate")
def migrate_command(json_output: JsonOption = False):
    """Move projects stored under their name (before ids) into their id's folder; the old folders stay."""
    from ..cloud import connect, migrate_layout

    moved = migrate_layout(connect(create_container=False))
    if json_output:
        print_json(moved)
    elif not moved:
        print("every project is already stored under its id")
    else:
        for row in moved:
            print(f"{row['name']!r}: {row['from']} -> {row['to']} ({row['blobs']} blobs, {row['versions']} versions)")


@sync_app.command("auto")
def auto_command(project: Annotated[Optional[str], typer.Argument(help="Watch this project and back it up.")] = None,
                 enable: Annotated[Optional[bool], typer.Option("--enable/--disable",
                                   help="Turn backup-on-save on or off in the config file.")] = None,
                 delay: Annotated[float, typer.Option(help="Seconds of quiet before a backup.")] = 2.0,
                 duration: Annotated[float, typer.Option(
                     "--for", help="Stop after this many seconds (0: until Ctrl-C).")] = 0.0,
                 json_output: JsonOption = False):
    """Automatic backup: turn it on or off for notebooks, or watch one project from the terminal."""
    from ..config import config_path, load_config, read_config_file, write_config_file

    if enable is not None:
        data = read_config_file()
        data.setdefault("storage", {})["auto_backup"] = enable
        write_config_file(data)
    enabled = load_config().storage.auto_backup
    if project is None:
        if json_output:
            print_json({"auto_backup": enabled, "config": str(config_path())})
        else:
            print(f"automatic backup on save is {'on' if enabled else 'off'} ({config_path()})")
        return
    _watch(project, delay=delay, duration=duration, json_output=json_output)


def _watch(name: str, *, delay: float, duration: float, json_output: bool) -> None:
    from ..cloud.autobackup import AutoBackup

    project = _project(name)
    document = project.path / "project.isproj"
    backup = AutoBackup(delay=delay)
    backup.schedule(project)  # catch up with what changed while nobody watched
    if not json_output:
        print(f"backing up {project.name!r} {delay:g} s after each change; Ctrl-C to stop")
    stamp = document.stat().st_mtime_ns
    deadline = time.monotonic() + duration if duration > 0 else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.25)
            current = document.stat().st_mtime_ns
            if current != stamp:
                stamp = current
                backup.schedule(project)
    except KeyboardInterrupt:
        pass
    finally:
        backup.stop(flush=True, timeout=120)
    state = backup.status().get(project.name, {})
    if json_output:
        print_json(state)
    else:
        print(f"{project.name}: {state.get('state', 'nothing to do')}"
              + (f" ({state['error']})" if state.get("error") else ""))


@sync_app.command("verify")
def verify_command(project: str, repair: Annotated[bool, typer.Option("--repair/--check-only",
                   help="Overwrite corrupt blobs from good local copies.")] = True, json_output: JsonOption = False):
    """Download and check every blob of the project's cloud copy; repair corrupt ones from local copies."""
    from ..cloud import verify

    report = verify(_project(project), repair=repair)
    if json_output:
        print_json(report)
    else:
        print(f"{project}: {report['checked']} blobs checked, {len(report['corrupt'])} corrupt, "
              f"{len(report['repaired'])} repaired, {len(report['unrepairable'])} unrepairable; "
              f"document {report['document']}")


@sync_app.command("versions")
def versions_command(project: str, json_output: JsonOption = False):
    """List the versions kept in the cloud (one per sync and per checkpoint)."""
    from ..cloud import connect, list_versions

    rows = [v.as_dict() for v in list_versions(connect(create_container=False), project)]
    if json_output:
        print_json(rows)
    elif not rows:
        print(f"no versions of {project!r} in the cloud yet: `imagestudio sync push {project}`")
    else:
        for row in rows:
            row["checkpoints"] = ", ".join(row["checkpoints"])
        print_table(rows, ["id", "created", "reason", "checkpoints", "saved_by", "size"], title=f"Versions of {project}")


VersionArgument = Annotated[str, typer.Argument(help="A version id, a checkpoint name, or 'latest'.")]


@sync_app.command("restore")
def restore_command(project: str, version: VersionArgument,
                    push: Annotated[bool, typer.Option("--push/--no-push", help="Sync the restored state.")] = True,
                    json_output: JsonOption = False):
    """Bring the project back to a stored version (as a new change: later versions stay)."""
    from ..cloud import restore_version

    result = restore_version(_project(project), version, push=push, progress=not json_output)
    if json_output:
        print_json(result)
    else:
        print(f"restored {project!r} to version {result['version']['id']} ({result['layers']} layers, "
              f"{result['downloaded_assets']} assets downloaded)")


def _seconds(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(f"--expires {text!r} is not a duration; allowed: a number with s, m, h or d (e.g. 7d)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


@sync_app.command("share")
def share_command(project: str,
                  asset: Annotated[Optional[str], typer.Option(help="Share one asset (hash or prefix).")] = None,
                  expires: Annotated[str, typer.Option(help="How long the link works: 90m, 12h, 7d.")] = "7d",
                  revocable: Annotated[bool, typer.Option("--revocable/--not-revocable",
                                       help="Tie the link to a stored access policy.")] = True,
                  json_output: JsonOption = False):
    """Make a read-only, expiring link to the project's gallery or to one asset."""
    from ..cloud import connect, share

    workspace = connect()
    link = share(project, workspace, asset=asset, expires_in=_seconds(expires),
                 revocable=revocable if workspace.auth == "key" else False)
    if json_output:
        print_json(link.as_dict())
    else:
        print(link.url)
        print(f"read-only, expires {link.expires}; " +
              (f"revoke with `imagestudio sync revoke {link.id}`" if link.revocable else "cannot be revoked early"))


@sync_app.command("shares")
def shares_command(json_output: JsonOption = False):
    """List the share links made in this cloud workspace."""
    from ..cloud import list_shares

    rows = list_shares()
    if json_output:
        print_json(rows)
    else:
        print_table(rows, ["id", "project", "asset", "expires", "revocable", "active"], title="Shares")


@sync_app.command("revoke")
def revoke_command(share_id: str, json_output: JsonOption = False):
    """End a share link now (removes its access policy and its gallery page)."""
    from ..cloud import revoke

    result = revoke(share_id)
    if json_output:
        print_json(result)
    else:
        print(f"share {share_id}: " + ("revoked" if result["revoked"] else result["note"]))


@sync_app.command("usage")
def usage_command(project: Annotated[Optional[str], typer.Argument(help="Only this project.")] = None,
                  json_output: JsonOption = False):
    """Bytes stored per project in the cloud, and the quota."""
    from ..cloud import connect, usage
    from ..cloud.storage import format_bytes

    data = usage(connect(create_container=False), project)
    if json_output:
        print_json(data)
        return
    sized = ("bytes", "assets", "versions", "states")
    rows = [{"project": f"{row['name']} ({folder})", **{k: format_bytes(v) if k in sized else v
                                                        for k, v in row.items() if k != "name"}}
            for folder, row in sorted(data["projects"].items())]
    print_table(rows, ["project", "bytes", "assets", "asset_count", "versions", "version_count", "states"],
                title="Cloud usage")
    quota = data["quota_bytes"]
    print(f"total {format_bytes(data['total_bytes'])}" + (f" of {format_bytes(quota)} quota" if quota else ""))


@sync_app.command("clean")
def clean_command(project: str,
                  dry_run: Annotated[bool, typer.Option("--dry-run/--delete", help="Only list (default), or delete.")] = True,
                  keep_versions: Annotated[Optional[int], typer.Option(help="Also drop older sync versions beyond N.")] = None,
                  min_age: Annotated[float, typer.Option(help="Keep blobs younger than this many seconds.")] = 3600.0,
                  json_output: JsonOption = False):
    """Remove cloud assets and states no kept version references (a dry run unless --delete)."""
    from ..cloud import clean
    from ..cloud.storage import format_bytes

    report = clean(project, dry_run=dry_run, keep_versions=keep_versions, min_age=min_age)
    if json_output:
        print_json(report)
        return
    verb = "would free" if dry_run else "freed"
    print(f"{project}: {len(report['versions'])} versions, {len(report['assets'])} assets, {len(report['states'])} "
          f"states, {len(report['shares'])} expired or revoked shares; {verb} {format_bytes(report['bytes'])}"
          + ("; run again with --delete to remove them" if dry_run and report["bytes"] else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")
