"""Filter presets: named chains, built in (JSON files shipped in ``presets/``) or saved by the user.

User presets are JSON files in a folder the caller hands in (by default the user's config folder,
``<config>/imagestudio/presets``); they can be exported and imported as single JSON files. Every
preset is validated against the filter registry on the way in, and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import DataError, InvalidArgumentError, NotFoundError
from .chains import Chain, validate_chain

#: Largest preset file read on import: presets are small, anything bigger is not one.
MAX_PRESET_BYTES = 256 * 1024
_NAME = re.compile(r"^[\w&+\-.' ()]{1,64}$")


def default_user_dir() -> Path:
    """The default folder of user presets: ``<user config dir>/imagestudio/presets``."""
    import platformdirs

    return Path(platformdirs.user_config_dir()) / "imagestudio" / "presets"


def preset_slug(name: str) -> str:
    """The file stem of a preset: lower case, non-alphanumerics as ``_``.

    Examples
    --------
    >>> preset_slug("B&W"), preset_slug("Warm Glow")
    ('b_w', 'warm_glow')
    """
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "preset"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name.strip()) or not name.strip():
        raise InvalidArgumentError(
            f"preset name {name!r} must be 1-64 letters, digits, spaces or & + - . ' ( )"
        )
    return name.strip()


def _parse(data: Any, origin: str) -> dict[str, Any]:
    if not isinstance(data, dict) or "name" not in data or "chain" not in data:
        raise DataError(
            f'{origin} is not a preset: expected {{"name": ..., "description": ..., "chain": [...]}}'
        )
    try:
        chain = validate_chain(data["chain"])
    except InvalidArgumentError as exc:
        raise DataError(f"{origin} holds an invalid chain: {exc}") from None
    return {
        "name": _check_name(data["name"]),
        "description": str(data.get("description", "")),
        "chain": chain,
    }


def _read(path: Path, origin: str | None = None) -> dict[str, Any]:
    origin = origin or str(path)
    if path.stat().st_size > MAX_PRESET_BYTES:
        raise DataError(f"{origin} is larger than {MAX_PRESET_BYTES // 1024} KB; it is not a preset")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{origin} is not valid JSON: {exc}") from None
    return _parse(data, origin)


def _builtin() -> dict[str, dict[str, Any]]:
    folder = resources.files(__package__).joinpath("presets")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            preset = _parse(json.loads(entry.read_text(encoding="utf-8")), f"built-in preset {entry.name}")
            out[preset["name"].lower()] = dict(preset, source="builtin")
    return out


def _user(user_dir: Path | str | None) -> dict[str, dict[str, Any]]:
    folder = Path(user_dir) if user_dir is not None else default_user_dir()
    out = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                preset = _read(path)
            except DataError as exc:  # one bad file must not hide the others
                warnings.warn(f"skipping user preset: {exc}", stacklevel=3)
                continue
            out[preset["name"].lower()] = dict(preset, source="user", path=str(path))
    return out


def list_presets(user_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Built-in then user presets: name, description, source (``builtin``/``user``) and number of steps.

    Examples
    --------
    >>> names = [p["name"] for p in list_presets(user_dir="/nonexistent")]
    >>> {"Bright", "Dramatic", "Vintage", "B&W", "Cinematic"} <= set(names)
    True
    """
    presets = list(_builtin().values()) + list(_user(user_dir).values())
    return [
        {"name": p["name"], "description": p["description"], "source": p["source"], "steps": len(p["chain"])}
        for p in presets
    ]


def get_preset(name: str, user_dir: Path | str | None = None) -> dict[str, Any]:
    """Return the preset ``name`` (case-insensitive): ``{"name", "description", "chain", "source"}``.

    Raises
    ------
    NotFoundError
        When no preset has that name; the message lists the presets.

    Examples
    --------
    >>> get_preset("b&w", user_dir="/nonexistent")["chain"][0]["filter"]
    'black_white'
    """
    key = str(name).strip().lower()
    found = _builtin().get(key) or _user(user_dir).get(key)
    if found is None:
        names = ", ".join(p["name"] for p in list_presets(user_dir))
        raise NotFoundError(f"no preset named {name!r}; presets: {names}")
    return found


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 0666 so the user's umask applies (mkstemp's 0600 would hide shared presets).
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_preset(
    name: str,
    chain: Chain | str,
    *,
    description: str = "",
    user_dir: Path | str | None = None,
    overwrite: bool = False,
) -> Path:
    """Save ``chain`` as the user preset ``name`` and return its file.

    Raises
    ------
    InvalidArgumentError
        For a bad name, a built-in's name, an existing preset without ``overwrite``, or a bad chain.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> save_preset("Soft", [{"filter": "gaussian_blur", "params": {"sigma": 1}}], user_dir=folder).name
    'soft.json'
    >>> get_preset("soft", user_dir=folder)["source"]
    'user'
    """
    name = _check_name(name)
    steps = validate_chain(chain)
    if name.lower() in _builtin():
        raise InvalidArgumentError(f"{name!r} is a built-in preset; save under another name")
    folder = Path(user_dir) if user_dir is not None else default_user_dir()
    existing = _user(folder).get(name.lower())
    if existing is not None and not overwrite:
        raise InvalidArgumentError(
            f"preset {name!r} exists ({existing['path']}); pass overwrite=True to replace it"
        )
    path = Path(existing["path"]) if existing else folder / f"{preset_slug(name)}.json"
    if existing is None and path.exists():  # another name with the same slug
        path = folder / f"{preset_slug(name)}_{hashlib.sha256(name.encode()).hexdigest()[:8]}.json"
    _write_json(path, {"name": name, "description": str(description), "chain": steps})
    return path


def delete_preset(name: str, user_dir: Path | str | None = None) -> None:
    """Delete the user preset ``name``; built-in presets cannot be deleted."""
    preset = get_preset(name, user_dir)
    if preset["source"] != "user":
        raise InvalidArgumentError(f"{preset['name']!r} is a built-in preset and cannot be deleted")
    Path(preset["path"]).unlink()


def export_preset(name: str, path: Path | str, *, user_dir: Path | str | None = None) -> Path:
    """Write the preset ``name`` (built-in or user) to the JSON file ``path`` and return it."""
    preset = get_preset(name, user_dir)
    target = Path(path)
    _write_json(
        target, {"name": preset["name"], "description": preset["description"], "chain": preset["chain"]}
    )
    return target


def import_preset(
    path: Path | str, *, user_dir: Path | str | None = None, name: str | None = None, overwrite: bool = False
) -> dict[str, Any]:
    """Read a preset JSON file, validate it, and save it as a user preset (optionally renamed).

    Raises
    ------
    DataError
        When the file is too big, not JSON, or not a valid preset.
    InvalidArgumentError
        When the name is taken (see ``save_preset``).
    """
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"preset file {str(source)!r} does not exist")
    preset = _read(source)
    final = _check_name(name) if name else preset["name"]
    save_preset(
        final, preset["chain"], description=preset["description"], user_dir=user_dir, overwrite=overwrite
    )
    return get_preset(final, user_dir)


__all__ = [
    "list_presets",
    "get_preset",
    "save_preset",
    "delete_preset",
    "export_preset",
    "import_preset",
    "default_user_dir",
    "preset_slug",
]
