"""The exception family of the toolkit (DESIGN.md D8).

Every failure a person can cause or meet has its own type here, and its message says what to do.
The CLI maps each type to a documented exit code; nothing here may carry a secret in its text.
"""

from __future__ import annotations

from collections.abc import Iterable


class ImageStudioError(Exception):
    """Base of every error the toolkit raises on purpose."""

    #: Exit code used by the ``imagestudio`` command (see README, "Exit codes").
    exit_code = 1


class InvalidArgumentError(ImageStudioError, ValueError):
    """An argument has the wrong type or value."""

    exit_code = 2


class UnsupportedParameterError(InvalidArgumentError):
    """A parameter is not allowed for the chosen model or operation.

    The message names the parameter and the allowed values.
    """

    def __init__(self, parameter: str, value: object, allowed: Iterable[object] | str, *, model: str | None = None):
        self.parameter = parameter
        self.value = value
        self.allowed = allowed if isinstance(allowed, str) else list(allowed)
        self.model = model
        allowed_text = allowed if isinstance(allowed, str) else ", ".join(str(a) for a in self.allowed)
        where = f" for model {model!r}" if model else ""
        super().__init__(f"{parameter}={value!r} is not supported{where}; allowed: {allowed_text}")


class NotFoundError(ImageStudioError, LookupError):
    """Something named by the user does not exist."""

    exit_code = 3


class ProjectNotFoundError(NotFoundError):
    """No project of that name exists in the workspace."""


class ProjectExistsError(ImageStudioError):
    """A project of that name already exists."""

    exit_code = 2


class AssetNotFoundError(NotFoundError):
    """No asset with that hash (or prefix) is in the project."""


class UnknownModelError(NotFoundError):
    """The model is neither local nor configured on any endpoint."""


class UnknownDeploymentError(NotFoundError):
    """The service answered 404 for a deployment; the message lists the configured ones."""


class CheckpointNotFoundError(NotFoundError):
    """No checkpoint of that name exists in the project."""


class ConfigError(ImageStudioError):
    """The configuration is missing, malformed or inconsistent."""

    exit_code = 4


class CredentialsError(ConfigError):
    """Credentials are missing or were refused; the message names the variable to set."""


class ProviderError(ImageStudioError):
    """A generation service failed in a way retrying did not fix."""

    exit_code = 5


class ContentFilterError(ProviderError):
    """The service refused the request or its result on content grounds."""

    def __init__(self, message: str, categories: dict[str, object] | None = None):
        self.categories = categories or {}
        super().__init__(message)


class RateLimitError(ProviderError):
    """The service kept answering 429 beyond the retry budget."""

    def __init__(self, message: str, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class PartialResultError(ProviderError):
    """Fewer results came back than were asked for; ``results`` holds those that did."""

    def __init__(self, message: str, results: list | None = None):
        self.results = results or []
        super().__init__(message)


class DataError(ImageStudioError):
    """Input data (an image, an archive, a document) is corrupt or unsafe."""

    exit_code = 6


class ImageDecodeError(DataError):
    """An image could not be decoded, is of an unsupported format, or is too large."""


class UnsafeArchiveError(DataError):
    """An archive holds entries that would escape the target, links, or too much data."""


class DocumentFormatError(DataError):
    """A project file is not valid JSON, or not a project document this version can read."""


class CloudError(ImageStudioError):
    """Cloud storage (Azure Blob) failed or holds something unexpected; local work is never lost by it."""

    exit_code = 7


class CloudUnavailableError(CloudError):
    """The storage service could not be reached (offline, stopped); work stays saved locally."""


class QuotaExceededError(CloudError):
    """An upload would take the cloud workspace past its configured quota; nothing was uploaded."""

    exit_code = 8

    def __init__(self, message: str, *, used: int = 0, needed: int = 0, quota: int = 0):
        self.used, self.needed, self.quota = used, needed, quota
        super().__init__(message)


class SyncConflictError(CloudError):
    """The remote document kept changing while merging; try the sync again."""

    exit_code = 9


class StorageError(ImageStudioError):
    """The project could not be written: the disk is full, the folder is read-only, or a file is locked.

    Nothing was half-written: the change was not recorded and the project keeps its earlier state.
    """

    exit_code = 10


class PermissionDeniedError(ImageStudioError):
    """The user's role in the project does not allow this change (viewer, commenter, or not an owner)."""

    exit_code = 11
