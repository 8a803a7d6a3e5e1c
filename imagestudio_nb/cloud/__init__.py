"""Cloud storage for projects on Azure Blob Storage (DESIGN.md D5): backup, sync, history, sharing.

Connect with :func:`connect` (connection string, account URL with key or SAS, or Entra ID), then
``push``/``pull``/``sync``/``status``/``clone`` projects; keep and restore versions; measure usage,
enforce a quota and clean up; make read-only, expiring share links and galleries; back up
automatically on save. Tests and notebooks run it against Azurite (:func:`start_azurite`).
"""

from .azurite import AzuriteServer, start_azurite
from .blob_sync import SyncResult, clone, pull, push, status, sync
from .connection import CloudWorkspace, TransferStats, connect
from .history import Version, find_version, list_versions, restore_version
from .storage import clean, usage

__all__ = ["AzuriteServer", "CloudWorkspace", "SyncResult", "TransferStats", "Version", "clean", "clone", "connect",
           "find_version", "list_versions", "pull", "push", "restore_version", "start_azurite", "status", "sync",
           "usage"]
