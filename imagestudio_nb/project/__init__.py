"""Projects (DESIGN.md D1): the folder, its Y document in canonical JSON, assets, index and archives."""

from .assets import AssetInfo, AssetStore
from .document import SCHEMA_VERSION
from .project import Project, delete_project, import_project
from .workspace import ProjectInfo, list_projects, workspace_path

__all__ = ["AssetInfo", "AssetStore", "Project", "ProjectInfo", "SCHEMA_VERSION", "delete_project",
           "import_project", "list_projects", "workspace_path"]
