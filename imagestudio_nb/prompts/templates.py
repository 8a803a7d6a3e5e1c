"""Prompt templates with variables: built-in ones from ``data/templates.toml`` and the user's own,
saved one TOML file each in a folder the caller names (the user's config folder or a project's).

A template's text uses ``{name}`` fields only: no attribute access, indexing or format specs, so a
shared template cannot reach into Python objects. Saving is atomic; nothing half-written is left.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError, UnsupportedParameterError
from .styles import _read_data

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Variable:
    """A template variable: what to put there and, when optional, its default."""

    description: str = ""
    default: str | None = None
    example: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Template:
    """A prompt with ``{variables}``, a suggested style and size."""

    name: str
    text: str
    title: str = ""
    description: str = ""
    variables: dict[str, Variable] = field(default_factory=dict)
    style: str | None = None
    size: str | None = None
    source: str = "builtin"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidArgumentError(f"template name {self.name!r} must be 1-64 characters of a-z, 0-9, _ and -, "
                                       "starting with a letter or digit")
        fields = template_fields(self.text)
        undeclared = [f for f in fields if f not in self.variables]
        if undeclared:
            # A template made from text alone: every field becomes a required variable.
            object.__setattr__(self, "variables", {**self.variables, **{f: Variable() for f in undeclared}})

    def render(self, values: dict[str, Any] | None = None, /, **more: Any) -> str:
        """Fill the variables; optional ones fall back to their defaults.

        Raises
        ------
        InvalidArgumentError
            When a required variable has no value; the message names it and says what it is.
        UnsupportedParameterError
            When a value names a variable the template does not have; the message lists them.

        Examples
        --------
        >>> get_template("logo").render(brand="a tea shop called Leaf").startswith("flat vector logo for a tea shop")
        True
        """
        given = {**(values or {}), **more}
        unknown = [k for k in given if k not in self.variables]
        if unknown:
            raise UnsupportedParameterError("variable", unknown[0], list(self.variables), model=None)
        filled = {}
        missing = []
        for name, variable in self.variables.items():
            value = given.get(name)
            if value is None or str(value).strip() == "":
                value = variable.default
            if value is None:
                hint = variable.description or "a value"
                if variable.example:
                    hint += f", e.g. {variable.example!r}"
                missing.append(f"{name} ({hint})")
            else:
                filled[name] = " ".join(str(value).split())
        if missing:
            raise InvalidArgumentError(f"template {self.name!r} needs values for: {'; '.join(missing)}")
        return self.text.format_map(filled)

    def example(self) -> str:
        """Render with each required variable's example (or its name in angle brackets)."""
        return self.render({k: v.example or f"<{k}>" for k, v in self.variables.items() if v.required})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for panels, the CLI and saving."""
        return {"name": self.name, "title": self.title, "description": self.description, "text": self.text,
                "style": self.style, "size": self.size, "source": self.source,
                "variables": {k: {kk: vv for kk, vv in vars(v).items() if vv is not None}
                              for k, v in self.variables.items()}}


def template_fields(text: str) -> list[str]:
    """Return the ``{fields}`` of a template text, refusing anything but plain names.

    Examples
    --------
    >>> template_fields("a {animal} in {place}, {animal}")
    ['animal', 'place']
    >>> template_fields("{x.__class__}")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: template field '{x.__class__}' is not a plain name; use {name} with letters, digits and _
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidArgumentError(f"template text is malformed ({exc}); write literal braces as {{{{ and }}}}") \
            from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _FIELD.match(name) or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InvalidArgumentError(f"template field {shown!r} is not a plain name; use {{name}} with "
                                       "letters, digits and _")
        if name not in names:
            names.append(name)
    return names


def _from_data(name: str, raw: dict[str, Any], source: str) -> Template:
    try:
        variables = {k: Variable(**v) for k, v in (raw.get("variables") or {}).items()}
        return Template(name=name, text=raw["text"], title=raw.get("title", name.replace("_", " ").title()),
                        description=raw.get("description", ""), variables=variables, style=raw.get("style"),
                        size=raw.get("size"), source=source)
    except (KeyError, TypeError) as exc:
        raise InvalidArgumentError(f"template {name!r} is malformed: {exc}") from None


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Template]:
    return {name: _from_data(name, raw, "builtin") for name, raw in _read_data("templates.toml").items()}


def _user(folder: Path | None) -> dict[str, Template]:
    if folder is None or not Path(folder).is_dir():
        return {}
    found = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue  # a broken file must not hide the other templates
        try:
            found[path.stem] = _from_data(path.stem, raw, "user")
        except InvalidArgumentError:
            continue
    return found


def user_templates_dir() -> Path:
    """The default folder for the user's own templates: ``templates/`` beside the config file."""
    from ..config import config_path

    return config_path().parent / "templates"


def list_templates(folder: Path | str | None = None) -> list[Template]:
    """Return the built-in templates and, when ``folder`` is given, the user's (which shadow built-ins).

    Examples
    --------
    >>> [t.name for t in list_templates()][:3]
    ['product_shot', 'portrait', 'landscape']
    """
    merged = dict(_builtin())
    merged.update(_user(Path(folder) if folder is not None else None))
    return list(merged.values())


def get_template(name: str, folder: Path | str | None = None) -> Template:
    """Return the template called ``name`` (the user's first, then the built-in).

    Raises
    ------
    NotFoundError
        Listing the template names.
    """
    for template in reversed(list_templates(folder)):
        if template.name == name:
            return template
    names = ", ".join(t.name for t in list_templates(folder))
    raise NotFoundError(f"no template called {name!r}; available: {names}")


def render_template(name: str, values: dict[str, Any] | None = None, *, folder: Path | str | None = None,
                    **more: Any) -> str:
    """Render template ``name`` with ``values`` (see :meth:`Template.render`)."""
    return get_template(name, folder).render(values, **more)


def save_template(template: Template, folder: Path | str, *, overwrite: bool = False) -> Path:
    """Save a user template as ``<folder>/<name>.toml``, atomically.

    Raises
    ------
    InvalidArgumentError
        When a user template of that name exists and ``overwrite`` is false.
    """
    import tomli_w

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{template.name}.toml"
    if path.exists() and not overwrite:
        raise InvalidArgumentError(f"a user template called {template.name!r} exists in {folder}; "
                                   "pass overwrite=True to replace it")
    data = template.as_dict()
    data = {k: v for k, v in data.items() if v is not None and k not in ("name", "source")}
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        tomli_w.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def delete_template(name: str, folder: Path | str) -> None:
    """Delete the user template ``name`` from ``folder``.

    Raises
    ------
    NotFoundError
        When the folder holds no such template (built-ins cannot be deleted).
    """
    if not _NAME.match(name):
        raise NotFoundError(f"no user template called {name!r}")
    path = Path(folder) / f"{name}.toml"
    if not path.is_file():
        raise NotFoundError(f"no user template called {name!r} in {folder}")
    path.unlink()
