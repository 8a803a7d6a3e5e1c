"""``imagestudio enhance``, ``imagestudio templates list|show|render|save|delete`` and ``imagestudio styles list|show``.

Thin: every command calls the public functions of ``imagestudio_nb.prompts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._output import JsonOption, print_json, print_table

templates_app = typer.Typer(help="Prompt templates with variables (built-in and your own).", no_args_is_help=True)
styles_app = typer.Typer(help="Style presets: prompt phrases and a suggested filter chain.", no_args_is_help=True)

FolderOption = Annotated[Path | None, typer.Option("--folder", help="Folder of user templates "
                                                   "(default: templates/ beside the config file).")]


def _folder(folder: Path | None) -> Path:
    from ..prompts import user_templates_dir

    return folder or user_templates_dir()


def enhance_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to enhance.")],
    style: Annotated[str | None, typer.Option("--style", "-s", help="A style preset (see `imagestudio styles list`).")]
    = None,
    engine: Annotated[str, typer.Option(help="auto (LLM when configured, else local), local or llm.")] = "auto",
    language: Annotated[str | None, typer.Option(help="Write the result in this language (LLM engine).")] = None,
    context: Annotated[str | None, typer.Option(help="A description of the project, to stay consistent with.")]
    = None,
    show_score: Annotated[bool, typer.Option("--score", help="Score the prompt before and after (0-100).")] = False,
    llm_score: Annotated[bool, typer.Option("--llm-score", help="Add the LLM's judgement to --score.")] = False,
    json_output: JsonOption = False,
):
    """Enhance a prompt: fill its missing slots (medium, style, lighting, composition, ...) and explain each change."""
    from ..config import load_config
    from ..prompts import enhance, score

    settings = load_config()
    result = enhance(prompt, style=style, context=context, language=language, engine=engine, settings=settings)
    scores = None
    if show_score or llm_score:
        before = score(prompt, settings=settings, llm=llm_score)
        after = score(result.prompt, settings=settings, llm=llm_score)
        scores = {"before": before.to_dict(), "after": after.to_dict()}
    if json_output:
        data = result.to_dict()
        if scores is not None:
            data["score"] = scores
        print_json(data)
        return
    print(result.prompt)
    print()
    for change in result.changes:
        mark = "+" if change.action == "add" else "~"
        print(f"  {mark} {change.slot}: {change.text}  ({change.reason})")
    for alternative in result.alternatives:
        print(f"  alternative: {alternative}")
    if result.filters:
        chain = ", ".join(step["filter"] for step in result.filters)
        print(f"  suggested filters ({result.style}): {chain}")
    for note in result.notes:
        print(f"  note: {note}")
    if scores is not None:
        b, a = scores["before"], scores["after"]
        print(f"  score: {b['total']} -> {a['total']} / 100")
        for before_c, after_c in zip(b["criteria"], a["criteria"]):
            print(f"    {before_c['name']:<12} {before_c['points']:>3} -> {after_c['points']:>3} "
                  f"/ {after_c['max_points']:<3} {after_c['detail']}")
        for which, data in (("before", b), ("after", a)):
            if data.get("llm"):
                print(f"    LLM judgement {which}: {data['llm']['score']} ({data['llm'].get('suggestion', '')})")
            for note in data.get("notes", []):
                print(f"    note ({which}): {note}")


@templates_app.command("list")
def templates_list(folder: FolderOption = None, json_output: JsonOption = False):
    """List the built-in templates and your own."""
    from ..prompts import list_templates

    templates = list_templates(_folder(folder))
    if json_output:
        print_json([t.as_dict() for t in templates])
        return
    print_table([{"name": t.name, "source": t.source, "variables": ", ".join(
        f"{k}{'' if v.required else '?'}" for k, v in t.variables.items()), "description": t.description}
        for t in templates], ["name", "source", "variables", "description"], title="Templates")


@templates_app.command("show")
def templates_show(name: str, folder: FolderOption = None, json_output: JsonOption = False):
    """Show a template: its text, variables (with defaults) and an example."""
    from ..prompts import get_template

    template = get_template(name, _folder(folder))
    if json_output:
        print_json({**template.as_dict(), "example": template.example()})
        return
    print(f"{template.name} ({template.source}): {template.description}")
    print(f"  text: {template.text}")
    for key, variable in template.variables.items():
        default = f" [default: {variable.default}]" if variable.default is not None else " [required]"
        print(f"  {{{key}}}: {variable.description}{default}")
    if template.style or template.size:
        print(f"  suggested style: {template.style or '-'}, size: {template.size or '-'}")
    print(f"  example: {template.example()}")


@templates_app.command("render")
def templates_render(
    name: str,
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="A value: name=value (repeatable).")] = None,
    folder: FolderOption = None,
    json_output: JsonOption = False,
):
    """Render a template with --var name=value pairs."""
    from ..errors import InvalidArgumentError
    from ..prompts import get_template

    values = {}
    for item in var or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidArgumentError(f"--var takes name=value, not {item!r}")
        values[key.strip()] = value
    template = get_template(name, _folder(folder))
    text = template.render(values)
    if json_output:
        print_json({"template": name, "prompt": text, "style": template.style, "size": template.size})
    else:
        print(text)


@templates_app.command("save")
def templates_save(
    name: str,
    text: Annotated[str, typer.Argument(help="The template text with {variables}.")],
    description: Annotated[str, typer.Option(help="What the template is for.")] = "",
    style: Annotated[str | None, typer.Option(help="The style preset it suits.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a user template of that name.")] = False,
    folder: FolderOption = None,
):
    """Save your own template; every {field} becomes a required variable."""
    from ..prompts import Template, get_style, save_template

    if style:
        style = get_style(style).name
    path = save_template(Template(name=name, text=text, description=description, style=style, source="user"),
                         _folder(folder), overwrite=overwrite)
    print(f"saved {path}")


@templates_app.command("delete")
def templates_delete(name: str, folder: FolderOption = None):
    """Delete one of your own templates."""
    from ..prompts import delete_template

    delete_template(name, _folder(folder))
    print(f"deleted {name}")


@styles_app.command("list")
def styles_list(json_output: JsonOption = False):
    """List the style presets with their suggested filters."""
    from ..prompts import list_styles

    styles = list_styles()
    if json_output:
        print_json([s.as_dict() for s in styles])
        return
    print_table([{"name": s.name, "description": s.description,
                  "filters": ", ".join(step["filter"] for step in s.filter_chain())} for s in styles],
                ["name", "description", "filters"], title="Styles")


@styles_app.command("show")
def styles_show(name: str, json_output: JsonOption = False):
    """Show a style preset: its phrases per slot, the terms that clash with it, its filter chain."""
    from ..prompts import get_style

    style = get_style(name)
    if json_output:
        print_json(style.as_dict())
        return
    print(f"{style.name}: {style.description}")
    for slot, options in style.options.items():
        if options:
            print(f"  {slot}: {' | '.join(options)}")
    if style.avoid:
        print(f"  clashes with: {', '.join(style.avoid)}")
    for step in style.filter_chain():
        print(f"  filter: {step['filter']} {step['params']}")


def register(app: typer.Typer) -> None:
    app.command("enhance")(enhance_command)
    app.add_typer(templates_app, name="templates")
    app.add_typer(styles_app, name="styles")
