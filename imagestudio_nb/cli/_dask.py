"""Connecting the CLI's ``--dask SCHEDULER`` options to a Dask scheduler (Dask is the optional ``[dask]`` extra)."""

from __future__ import annotations

from ..errors import ConfigError


def dask_client(address: str):
    """A ``dask.distributed.Client`` of the scheduler at ``address``, to use as a batch's executor.

    Raises
    ------
    ConfigError
        When Dask is not installed (naming the extra) or no scheduler answers there (exit code 4).
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError("--dask needs Dask: pip install 'imagestudio-nb[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"no Dask scheduler answered at {address!r} ({type(exc).__name__}); start one with "
                          "`dask scheduler` or check the address (tcp://host:8786)") from None
