"""Image Studio for Jupyter: generate, edit, filter and manage images with provenance, offline or on Azure.

The public functions here are the same ones the CLI and the widgets call.
"""

from __future__ import annotations

from .errors import ImageStudioError
from .generation import GenerationResult, GenerationResults, edit, generate
from .project import Project, import_project, list_projects

__version__ = "0.1.0"

def _install_auto_backup() -> None:
    # `[storage] auto_backup = true` backs up every saved project in the background (issue 8). A broken
    # config must not make the package unimportable: the next explicit call reports it.
    try:
        from .config import load_config

        if load_config().storage.auto_backup:
            from .cloud.autobackup import install_from_config

            install_from_config()
    except ImageStudioError:
        pass


_install_auto_backup()

__all__ = ["GenerationResult", "GenerationResults", "ImageStudioError", "Project", "edit", "generate",
           "import_project", "list_projects", "__version__"]


def __getattr__(name: str):
    # Heavier pieces load on first use so that `import imagestudio_nb` stays fast.
    if name == "Studio":
        from .widgets import Studio

        return Studio
    if name in ("apply_chain", "apply_filters"):
        from .imaging import chains

        return getattr(chains, name)
    if name == "generate_batch":
        from .batch import generate_batch

        return generate_batch
    if name == "Experiment":
        from .experiments import Experiment

        return Experiment
    if name == "remix":
        from .cloud.remix import remix

        return remix
    if name in ("usage", "usage_chart"):
        from . import analytics

        return getattr(analytics, name)
    if name == "remove_background":
        from .imaging.background import remove_background

        return remove_background
    raise AttributeError(f"module 'imagestudio_nb' has no attribute {name!r}")
