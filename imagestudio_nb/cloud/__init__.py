"""Cloud storage for projects on Azure Blob Storage (DESIGN.md D5): backup, sync, history, sharing.

Connect with :func:`connect` (connection string, account URL with key or SAS, or Entra ID), then
``push``/``pull``/``sync``/``status``/``clone`` projects; keep and restore versions; measure usage,
enforce a quota and clean up; make read-only, expiring share links to frozen galleries; back up
automatically on save; publish a public gallery and remix from it. Projects are stored under their
id (``migrate_layout`` moves ones stored under their name). Tests and notebooks run it against
Azurite (:func:`start_azurite`).
"""

from .autobackup import AutoBackup, auto_backup, disable_auto_backup, enable_auto_backup
from .azurite import AzuriteServer, start_azurite
from .blob_sync import SyncResult, pull, push, status, sync
from .catalog import CloudProject, find_cloud_project, list_cloud_projects
from .cloning import clone
from .connection import CloudWorkspace, TransferStats, connect
from .gallery import Publication, PublishedProject, publish_gallery, published_projects
from .migration import migrate_layout
from .remix import remix
from .restore import restore_version
from .sharing import ShareLink, gallery_html, list_shares, revoke, share
from .storage import clean, usage
from .verify import verify
from .versions import Version, find_version, list_versions

__all__ = ["AutoBackup", "AzuriteServer", "CloudProject", "CloudWorkspace", "ShareLink", "SyncResult",
           "TransferStats", "Version", "auto_backup", "clean", "clone", "connect", "disable_auto_backup",
           "enable_auto_backup", "find_cloud_project", "find_version", "gallery_html", "list_cloud_projects",
           "list_shares", "list_versions", "migrate_layout", "pull", "push", "restore_version", "revoke", "share",
           "Publication", "PublishedProject", "publish_gallery", "published_projects", "remix",
           "start_azurite", "status", "sync", "usage", "verify"]
