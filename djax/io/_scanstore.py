"""The scan store: one writer (:class:`ScanStore`) and one reader (:func:`read_scan`, :func:`open_scan`).

Layout of a scan run folder:

* ``scan.zarr`` -- a Zarr v3 store that ``xarray.open_datatree(path, engine="zarr")`` opens: groups ``params``
  (one array per free parameter), ``outputs`` (one per stored point-function output), both on the dimension
  ``point`` with a ``point`` coordinate (the index of the point in the scan), and ``maps/<x>__<y>`` (the 2D
  histograms of all and of allowed points, on ``x_bin``/``y_bin`` with ``x_edge``/``y_edge`` edges). Every
  array carries ``units`` and ``long_name``; metadata are consolidated when the scan finishes.
* ``scan_state.json`` -- settings, completed chunks, streaming summaries and the SHA-256 of every stored chunk,
  replaced atomically after each chunk. Checksums are verified on resume and on read.
* ``scan_summary.json`` -- the final summary (counts, best point, maps as nested lists).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError
from ._atomic import atomic_write_json, sha256_arrays

STATE_FILE = "scan_state.json"
SUMMARY_FILE = "scan_summary.json"
STORE_DIR = "scan.zarr"
FORMAT = "djax-scan"
VERSION = 2


def _units(name: str) -> tuple[str, str]:
    """(units, long_name) of a parameter or output name (schema and observable catalogue, else '')."""
    from ..model import PARAMETER_INFO

    if name in PARAMETER_INFO:
        info = PARAMETER_INFO[name]
        return info.units, info.long_name
    try:
        from ..observables import observable_info

        info = observable_info(name)
        return info["units"], info["long_name"]
    except (ImportError, KeyError):
        pass
    if name.startswith("lnL_"):
        return "1", f"log-likelihood of term {name[4:]}"
    return {"loglike": ("1", "joint log-likelihood"), "allowed": ("1", "all terms inside their CL region")}.get(
        name, ("", name)
    )


def _open(path: Path, mode: str):
    import zarr

    return zarr.open_group(str(path), mode=mode, zarr_format=3)


class ScanStore:
    """Zarr v3 scan store plus state file in ``folder`` (implements :class:`djax.inference.ScanStore`).

    Only process 0 of a multi-host run writes (``writer=False`` elsewhere)."""

    def __init__(self, folder: str | Path, *, writer: bool = True):
        self.folder = Path(folder)
        self.writer = writer
        self.root = None
        self.checksums: list[str] = []
        self._plan = None

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE

    def exists(self) -> bool:
        return self.state_path.is_file()

    def read_state(self) -> dict:
        p = self.state_path
        try:
            st = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(p, "state", "no scan state") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(p, "state", f"corrupt scan state (not JSON: {exc})") from None
        if not isinstance(st, dict) or st.get("format") != FORMAT or st.get("version") != VERSION:
            raise CheckpointError(p, "format", f"not a djax scan state (format {FORMAT!r} version {VERSION})")
        for k in ("settings", "completed_chunks", "summary", "output_keys", "chunk_sha256"):
            if k not in st:
                raise CheckpointError(p, k, "missing from the scan state")
        return st

    def load(self) -> dict | None:
        if not self.exists():
            return None
        st = self.read_state()
        self.root = _open(self.folder / STORE_DIR, "r+" if self.writer else "r")
        self.checksums = list(st["chunk_sha256"])
        chunk = st["settings"]["plan"]["chunk_size"]
        n = st["settings"]["plan"]["n_points"]
        verify_chunks(self.root, self.checksums, chunk, n, self.folder / STORE_DIR)
        return st

    def create(self, plan, x, outputs, keys, store_points) -> None:
        if not self.writer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.root = _open(self.folder / STORE_DIR, "w")
        n, c = plan.n_points, plan.chunk_size
        for group in (("params",) if store_points else ()) + ("outputs",):
            g = self.root.require_group(group)
            pt = g.create_array(
                "point",
                shape=(n,),
                chunks=(c,),
                dtype="int64",
                fill_value=-1,
                dimension_names=["point"],
                overwrite=True,
            )
            pt.attrs.update({"long_name": "index of the point in the scan", "units": "1"})
        if store_points:
            g = self.root["params"]
            for name, prior in zip(plan.box.free, plan.box.free_priors):
                a = g.create_array(
                    name,
                    shape=(n,),
                    chunks=(c,),
                    dtype="float64",
                    fill_value=np.nan,
                    dimension_names=["point"],
                    overwrite=True,
                )
                units, long = _units(name)
                a.attrs.update({"units": units, "long_name": long, "prior": prior.describe()})
            g.attrs.update({"fixed": {k: v for k, v in plan.box.fixed}, "priors": json.dumps(plan.box.as_json())})
        g = self.root["outputs"]
        for k in keys:
            v = np.asarray(outputs[k])
            fill = np.nan if np.issubdtype(v.dtype, np.floating) else (False if v.dtype == bool else 0)
            dims = ["point"] + [f"{k}_dim{j}" for j in range(1, v.ndim)]
            a = g.create_array(
                k,
                shape=(n, *v.shape[1:]),
                chunks=(c, *v.shape[1:]),
                dtype=v.dtype,
                fill_value=fill,
                dimension_names=dims,
                overwrite=True,
            )
            units, long = _units(k)
            a.attrs.update({"units": units, "long_name": long})
        self._plan = plan

    def write_chunk(self, i, start, stop, x, outputs, state) -> None:
        if not self.writer:
            return
        arrays = {}
        idx = np.arange(start, stop, dtype=np.int64)
        if x is not None:
            g = self.root["params"]
            g["point"][start:stop] = idx
            for j, name in enumerate(state_free_names(state)):
                g[name][start:stop] = x[:, j]
                arrays[f"params/{name}"] = np.asarray(x[:, j])
        g = self.root["outputs"]
        g["point"][start:stop] = idx
        for k, v in outputs.items():
            g[k][start:stop] = v
            arrays[f"outputs/{k}"] = np.asarray(v)
        self.checksums = self.checksums[:i] + [sha256_arrays(arrays)]
        atomic_write_json(
            self.state_path, {"format": FORMAT, "version": VERSION, **state, "chunk_sha256": self.checksums}
        )

    def finish(self, result, settings) -> None:
        if not self.writer or self.root is None and not (self.folder / STORE_DIR).exists():
            return
        import zarr

        if self.root is None:
            self.root = _open(self.folder / STORE_DIR, "r+")
        if result.complete:
            g = self.root.require_group("maps")
            for key, m in result.maps.items():
                sub = g.require_group(key)
                for name, dims in (
                    ("total", ["x_bin", "y_bin"]),
                    ("allowed", ["x_bin", "y_bin"]),
                    ("x_edges", ["x_edge"]),
                    ("y_edges", ["y_edge"]),
                ):
                    arr = np.asarray(m[name])
                    a = sub.create_array(name, shape=arr.shape, dtype=arr.dtype, overwrite=True, dimension_names=dims)
                    a[...] = arr
                    ax = m["x"] if name.startswith("x") else m["y"]
                    units = _units(ax)[0] if "edges" in name else "1"
                    a.attrs.update(
                        {
                            "units": units,
                            "long_name": {
                                "total": "points per bin",
                                "allowed": "allowed points per bin",
                                "x_edges": f"bin edges of {m['x']}",
                                "y_edges": f"bin edges of {m['y']}",
                            }[name],
                        }
                    )
                sub.attrs.update({"x": m["x"], "y": m["y"], "x_scale": m["x_scale"], "y_scale": m["y_scale"]})
            self.root.attrs.update(
                {
                    "completed_chunks": result.completed_chunks,
                    "n_chunks": result.n_chunks,
                    "criterion": result.criterion,
                    "method": result.method,
                }
            )
            import warnings

            with warnings.catch_warnings():  # zarr notes that consolidated metadata are a v3 extension
                warnings.simplefilter("ignore")
                zarr.consolidate_metadata(str(self.folder / STORE_DIR), zarr_format=3)
        atomic_write_json(self.folder / SUMMARY_FILE, scan_summary_json(result, settings))


def state_free_names(state: Mapping[str, Any]) -> list[str]:
    return [n for n, p in state["settings"]["plan"]["box"].items() if p["type"] != "fixed"]


def verify_chunks(root, checksums: Sequence[str], chunk: int, n: int, where) -> None:
    """Re-hash every stored chunk and compare with the state's checksums (CheckpointError on mismatch)."""
    has_params = "params" in root
    for i, sha in enumerate(checksums):
        start, stop = i * chunk, min((i + 1) * chunk, n)
        arrays = {}
        if has_params:
            for name, arr in root["params"].arrays():
                if name != "point":
                    arrays[f"params/{name}"] = np.asarray(arr[start:stop])
        for name, arr in root["outputs"].arrays():
            if name != "point":
                arrays[f"outputs/{name}"] = np.asarray(arr[start:stop])
        if sha256_arrays(arrays) != sha:
            raise CheckpointError(
                where, f"chunk {i}", f"checksum mismatch: stored points {start}..{stop - 1} are corrupt or were changed"
            )


def scan_summary_json(res, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JSON-friendly summary of a scan (maps as nested lists)."""
    import math

    return {
        "n_points": res.n_points,
        "n_done": res.n_done,
        "complete": res.complete,
        "completed_chunks": res.completed_chunks,
        "n_chunks": res.n_chunks,
        "method": res.method,
        "criterion": res.criterion,
        "n_allowed": res.n_allowed,
        "allowed_fraction": None if math.isnan(res.allowed_fraction) else res.allowed_fraction,
        "best_loglike": res.best_loglike,
        "best_point": res.best_point,
        "timings_s": res.timings,
        "settings": dict(settings or {}),
        "maps": {
            k: {
                "x": m["x"],
                "y": m["y"],
                "x_scale": m["x_scale"],
                "y_scale": m["y_scale"],
                "x_edges": np.asarray(m["x_edges"]).tolist(),
                "y_edges": np.asarray(m["y_edges"]).tolist(),
                "total": np.asarray(m["total"]).tolist(),
                "allowed": np.asarray(m["allowed"]).tolist(),
            }
            for k, m in res.maps.items()
        },
    }


def read_scan_summary(folder: str | Path) -> dict:
    """``scan_summary.json`` of a finished scan, else the summaries of an unfinished one's state."""
    folder = Path(folder)
    p = folder / SUMMARY_FILE
    if p.is_file():
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CheckpointError(p, "summary", f"corrupt scan summary (not JSON: {exc})") from None
    st = ScanStore(folder, writer=False).read_state()
    from ..inference import ScanBox, ScanSummary, scan_maps
    from ..model import prior_from_table

    box = ScanBox(tuple(prior_from_table(n, t) for n, t in st["settings"]["plan"]["box"].items()))
    maps = scan_maps(ScanSummary.from_json(st["summary"]), box)
    return {
        "maps": {
            k: {kk: (np.asarray(vv).tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in m.items()}
            for k, m in maps.items()
        },
        "complete": False,
    }


def read_scan(
    folder: str | Path, *, outputs: Sequence[str] | None = None, params: bool = True, verify: bool = True
) -> dict[str, np.ndarray]:
    """The completed part of a stored scan as arrays ``params/NAME`` and ``outputs/NAME`` (checksums verified)."""
    folder = Path(folder)
    st = ScanStore(folder, writer=False).read_state()
    chunk = st["settings"]["plan"]["chunk_size"]
    n = min(st["completed_chunks"] * chunk, st["n_points"])
    root = _open(folder / STORE_DIR, "r")
    if verify:
        verify_chunks(root, st["chunk_sha256"], chunk, st["n_points"], folder / STORE_DIR)
    res: dict[str, np.ndarray] = {}
    if params and "params" in root:
        for name, arr in root["params"].arrays():
            if name != "point":
                res[f"params/{name}"] = arr[:n]
    for name, arr in root["outputs"].arrays():
        if name != "point" and (outputs is None or name in outputs):
            res[f"outputs/{name}"] = arr[:n]
    return res


def open_scan(folder: str | Path):
    """The scan store as an ``xarray.DataTree`` (lazy; Zarr v3 with consolidated metadata)."""
    import xarray as xr

    return xr.open_datatree(str(Path(folder) / STORE_DIR), engine="zarr")


__all__ = [
    "ScanStore",
    "read_scan",
    "open_scan",
    "read_scan_summary",
    "scan_summary_json",
    "verify_chunks",
    "STATE_FILE",
    "SUMMARY_FILE",
    "STORE_DIR",
]
