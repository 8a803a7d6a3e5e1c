"""Writes notebooks/01_quickstart.ipynb (kept as code so the notebook's source is reviewable)."""

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell("""# Quickstart: Image Studio for Jupyter

Everything in this notebook runs **offline, with no credentials**: the `local` model draws a clearly
labelled placeholder from your prompt and seed. With Azure credentials configured (see the last
section) the very same calls reach gpt-image-1, FLUX or DALL-E 3.

We will: look at the configuration, create a project, generate images, list and search them,
save a checkpoint, and export the project to one `.zip`."""),
    nbf.v4.new_code_cell("""import imagestudio_nb as studio
from imagestudio_nb.config import load_config

settings = load_config()          # file < environment < project < arguments; secrets are masked
print("workspace:", settings.workspace)
print("default model:", settings.default_model or "local (offline)")
print("endpoints:", settings.deployments() or "none configured, so everything runs locally")"""),
    nbf.v4.new_markdown_cell("""## A project

A project is a folder with `project.isproj` (a collaborative document, canonical JSON on disk) and
`assets/` (image bytes named by their SHA-256). `exist_ok=True` opens it if it exists already."""),
    nbf.v4.new_code_cell("""project = studio.Project.create("Quickstart", width=1024, height=1024, exist_ok=True)
project"""),
    nbf.v4.new_markdown_cell("""## Generate

`generate` validates every parameter against the model's declared capabilities, stores each image as
an asset and records its provenance (model, full request, seed, timings, user). The same prompt,
seed and size always give identical bytes on the local model."""),
    nbf.v4.new_code_cell("""results = studio.generate("a red fox at dawn, watercolor", seed=7, n=4, size="512x512", project=project)
results"""),
    nbf.v4.new_code_cell("""record = results.record
{key: record[key] for key in ("id", "provider", "model", "seeds", "status", "timings")}"""),
    nbf.v4.new_markdown_cell("## List and search"),
    nbf.v4.new_code_cell("""for info in project.assets.list()[-4:]:
    print(info.hash[:12], info.mime, f"{info.width}x{info.height}", info.tags)

project.assets.tag(results[0].asset, "favourite")
project.search("fox")"""),
    nbf.v4.new_markdown_cell("""## Layers and checkpoints

Layers reference assets by hash. A checkpoint is a named version you can diff against and restore."""),
    nbf.v4.new_code_cell("""from IPython.display import Image

layer = project.add_layer("generated", asset=results[0].asset, name="Fox")
project.checkpoint(f"with fox {len(project.checkpoints()) + 1}")
project.update_layer(layer, opacity=0.6, transform={"x": 40, "rotation": 5})
print(project.diff(project.checkpoints()[-1]["name"]))
Image(data=project.assets.thumbnail(results[0].asset, 256))"""),
    nbf.v4.new_markdown_cell("## Export and import"),
    nbf.v4.new_code_cell("""import tempfile, pathlib

archive = project.export(pathlib.Path(tempfile.mkdtemp()) / "quickstart.zip")
copy = studio.import_project(archive, name=f"Quickstart copy {len(studio.list_projects())}")
print(archive.name, "->", copy.name, len(copy.assets.list()), "assets")
[p.name for p in studio.list_projects()]"""),
    nbf.v4.new_markdown_cell("""## Errors say what to do

Every failure has its own exception type under `ImageStudioError`, with a message naming the allowed values."""),
    nbf.v4.new_code_cell("""try:
    studio.generate("a fox", size="640x480")
except studio.ImageStudioError as error:
    print(type(error).__name__, "-", error)"""),
    nbf.v4.new_markdown_cell("""## Pointing it at Azure

Set `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY`, `OPENAI_API_VERSION` and
`AZURE_OPENAI_DEPLOYMENTS="gpt-image-1=<your deployment>"` (or run `imagestudio config init` and edit the
file, or `imagestudio config import azure-config.json`), then call
`studio.generate("...", model="gpt-image-1", project=project)`. Nothing else changes.

The same steps from a terminal: `imagestudio generate "a red fox at dawn" --seed 7 --project Quickstart`,
`imagestudio assets search Quickstart fox`, `imagestudio project export Quickstart out.zip`."""),
]
notebook = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                        "language": "python"}})
nbf.write(notebook, "notebooks/01_quickstart.ipynb")
