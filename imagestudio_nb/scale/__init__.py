"""Scale-out and operations: the cluster-wide rate limit for Dask batches.

Nothing here imports Dask at import time; Dask is the optional extra ``imagestudio-nb[dask]``.
"""
