"""Posterior files: one writer and one reader of ArviZ DataTrees (``posterior.nc`` / ``posterior.zarr``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DjaxError
from ._atomic import atomic_folder, atomic_path


def write_datatree(dt, path: str | os.PathLike) -> Path:
    """Write a DataTree atomically: ``*.zarr`` as a Zarr store (a folder), anything else as NetCDF-4 (h5netcdf)."""
    path = Path(path)
    if path.suffix == ".zarr":
        with atomic_folder(path) as tmp:
            dt.to_zarr(tmp, mode="w")
        return path
    with atomic_path(path) as tmp:
        dt.to_netcdf(tmp, engine="h5netcdf")
    return path


def read_datatree(path: str | os.PathLike):
    """Read a DataTree written by :func:`write_datatree` fully into memory (file closed)."""
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise DjaxError(path, "posterior", "posterior file not found (a sample run writes posterior.nc)")
    engine = "zarr" if path.suffix == ".zarr" else "h5netcdf"
    try:
        with xr.open_datatree(str(path), engine=engine) as dt:
            return dt.load()
    except (OSError, ValueError, KeyError) as exc:
        raise DjaxError(path, "posterior", f"cannot read the posterior file ({exc})") from None


__all__ = ["write_datatree", "read_datatree"]
