"""Streamed, sharded, resumable parameter scans over the prior box.

``run_scan`` evaluates a per-point function ``point_fn(params: dict[str, Array]) -> dict[str, Array]``
(written for one point; vmapped and jitted here) on ``n_points`` points of the prior box, chunk by
chunk, so host memory is bounded by one chunk whatever ``n_points`` is (a 1e8-point scan holds
``chunk_size`` points at a time).

Points are generated in the unit cube ``u in [0, 1)^d`` of the free parameters and mapped to physical
values per parameter: ``x = low + u (high - low)`` (uniform) or ``x = low (high / low)^u``
(log_uniform); fixed parameters are broadcast. Methods:

* ``random``: chunk ``i`` uses ``jax.random.uniform(jax.random.fold_in(key(seed), i), (chunk_size, d))``
  (counter-based: every chunk is reproducible on its own, so resuming is exact);
* ``sobol``: scrambled Sobol' sequence (``scipy.stats.qmc.Sobol``, seeded), fast-forwarded to the
  chunk start on (re)start, then streamed;
* ``grid``: ``k`` points per free parameter (``u = j / (k - 1)``), flat index -> multi-index
  (``numpy.unravel_index``), chunked; ``n_points = k^d``.

Each chunk is padded to a multiple of the device count and evaluated with the function jitted and
sharded over all devices along the batch axis (``jax.sharding.Mesh`` + ``NamedSharding``). Results are
written to a Zarr v3 store (``scan.zarr``: groups ``params/`` and ``outputs/``, one Zarr chunk per scan
chunk, dimension ``point``); after each chunk ``scan_state.json`` (``completed_chunks`` and the
streaming summaries) is replaced atomically, with Ctrl-C deferred during that critical section. A
resumed scan restarts at the first incomplete chunk and is bit-for-bit equal to an uninterrupted one.

Streaming summaries: the allowed fraction (``criterion``: the ``allowed`` output, or
``loglike >= loglike_threshold``), the best point (max ``loglike``), and per 2D projection a
histogram of all points and of allowed points over the box (bins uniform in ``u``, i.e. logarithmic
for log_uniform parameters): the exclusion map is ``allowed / total`` per bin.

Multi-host: call ``jax.distributed.initialize()`` in every process before ``run_scan``; the mesh then
spans all global devices, every process generates the same chunk (cheap) and feeds only its
addressable shards (``jax.make_array_from_callback``), outputs are all-gathered, and only process 0
writes (``out_dir`` must be on a shared file system for resume).
"""
from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from djax._x64 import require_x64

SCAN_METHODS = ("random", "grid", "sobol")
CRITERIA = ("auto", "allowed", "loglike")
STATE_FILE = "scan_state.json"
SUMMARY_FILE = "scan_summary.json"
STORE_DIR = "scan.zarr"
_STATE_VERSION = 1
_SOBOL_MAX = 2**32


class ScanError(RuntimeError):
    """A scan cannot start or resume as asked (the message names the setting at fault)."""


# ----------------------------------------------------------------------------------------------
# Box and plan


@dataclass(frozen=True)
class ScanBox:
    """The prior box: free parameters (uniform / log_uniform on [low, high]) and fixed ones.

    ``names`` keeps the canonical order of all parameters; ``free`` the order of the unit-cube axes.
    """

    names: tuple[str, ...]
    free: tuple[str, ...]
    kinds: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    fixed: tuple[tuple[str, float], ...] = ()

    scales: tuple[float, ...] = ()

    @classmethod
    def from_priors(cls, priors: Sequence[Any] | Mapping[str, Any]) -> "ScanBox":
        """From run-file priors (objects with ``name, type, low, high, value[, scale]``) or a mapping
        ``name -> (type, low, high[, scale])`` / ``name -> number`` (fixed)."""
        items = []
        if isinstance(priors, Mapping):
            for n, v in priors.items():
                if isinstance(v, (int, float)):
                    items.append((n, "fixed", None, None, float(v), None))
                else:
                    kind, lo, hi, *rest = v
                    items.append((n, kind, float(lo), float(hi), None, float(rest[0]) if rest else None))
        else:
            items = [(p.name, p.type, p.low, p.high, p.value, getattr(p, "scale", None)) for p in priors]
        names, free, kinds, low, high, fixed, scales = [], [], [], [], [], [], []
        for n, kind, lo, hi, val, scale in items:
            names.append(n)
            if kind == "fixed":
                fixed.append((n, float(val)))
                continue
            if kind not in ("uniform", "log_uniform", "signed_log_uniform"):
                raise ScanError(f"priors.{n}: unknown prior type {kind!r}")
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) or (kind == "log_uniform" and lo <= 0):
                raise ScanError(f"priors.{n}: bad bounds [{lo}, {hi}] for {kind}")
            free.append(n)
            kinds.append(kind)
            low.append(float(lo))
            high.append(float(hi))
            scales.append(float(scale) if scale else 1.0e-12)
        if not free:
            raise ScanError("priors: no free parameter to scan")
        return cls(tuple(names), tuple(free), tuple(kinds), tuple(low), tuple(high), tuple(fixed), tuple(scales))

    @property
    def dim(self) -> int:
        return len(self.free)

    def _latent(self):
        """Per-axis latent bounds and transform codes (0 uniform, 1 log, 2 signed log)."""
        lo_u, hi_u, codes = [], [], []
        for k, lo, hi, s in zip(self.kinds, self.low, self.high, self.scales or (1e-12,) * len(self.kinds)):
            if k == "log_uniform":
                lo_u.append(math.log(lo)), hi_u.append(math.log(hi)), codes.append(1)
            elif k == "signed_log_uniform":
                lo_u.append(math.asinh(lo / s)), hi_u.append(math.asinh(hi / s)), codes.append(2)
            else:
                lo_u.append(lo), hi_u.append(hi), codes.append(0)
        return lo_u, hi_u, codes

    def to_physical(self, u):
        """Map unit-cube points ``u`` (..., d) to physical values (same shape); works on jnp or np.

        Each axis is uniform in its prior's latent variable: x itself (uniform), ln x (log_uniform) or
        asinh(x / scale) (signed_log_uniform)."""
        xp = jnp if isinstance(u, jax.Array) else np
        lo_u, hi_u, codes = self._latent()
        lo = xp.asarray(lo_u, dtype=u.dtype)
        hi = xp.asarray(hi_u, dtype=u.dtype)
        code = xp.asarray(codes)
        scale = xp.asarray(self.scales or (1e-12,) * len(codes), dtype=u.dtype)
        t = lo + u * (hi - lo)
        return xp.where(code == 1, xp.exp(t), xp.where(code == 2, scale * xp.sinh(t), t))

    def edges(self, name: str, bins: int) -> np.ndarray:
        """Physical bin edges (``bins + 1``) of a free parameter (uniform in the prior's latent variable)."""
        j = self.free.index(name)
        t = np.linspace(0.0, 1.0, bins + 1)
        u = np.zeros((bins + 1, self.dim))
        u[:, j] = t
        return self.to_physical(u)[:, j]

    def as_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "free": list(self.free), "kinds": list(self.kinds),
                "low": list(self.low), "high": list(self.high), "fixed": [list(f) for f in self.fixed],
                "scales": list(self.scales)}


def _grid_k(n_points: int, d: int) -> int:
    k = max(1, int(math.floor(n_points ** (1.0 / d))))
    while (k + 1) ** d <= n_points:
        k += 1
    while k > 1 and k**d > n_points:
        k -= 1
    return k


@dataclass
class ScanPlan:
    """Which points a scan visits, chunk by chunk (``unit_points(i)`` is chunk ``i`` in the unit cube)."""

    box: ScanBox
    method: str
    n_points: int
    chunk_size: int
    seed: int
    grid_points_per_dim: int = 0
    _sobol: Any = field(default=None, repr=False, compare=False)
    _sobol_pos: int = field(default=-1, repr=False, compare=False)
    _uniform: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def make(cls, box: ScanBox, *, n_points: int, method: str = "random", chunk_size: int = 65536,
             seed: int = 0, grid_points_per_dim: int = 0) -> "ScanPlan":
        if method not in SCAN_METHODS:
            raise ScanError(f"scan.method: expected one of {SCAN_METHODS}, got {method!r}")
        if not (isinstance(n_points, (int, np.integer)) and n_points >= 1):
            raise ScanError(f"scan.n_points: expected a positive integer, got {n_points!r}")
        if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
            raise ScanError(f"scan.chunk_size: expected a positive integer, got {chunk_size!r}")
        if not (isinstance(seed, (int, np.integer)) and seed >= 0):
            raise ScanError(f"run.seed: expected a non-negative integer, got {seed!r}")
        d = box.dim
        if method == "grid":
            k = grid_points_per_dim or _grid_k(int(n_points), d)
            if k < 2:
                raise ScanError(f"scan.n_points: {n_points} points are too few for a grid over {d} free "
                                f"parameters (at least 2^{d} = {2**d} needed), or set scan.grid_points_per_dim")
            if k**d > 2**53:
                raise ScanError(f"scan.grid_points_per_dim: {k}^{d} points exceed 2^53")
            n_points, grid_points_per_dim = k**d, k
        else:
            grid_points_per_dim = 0
        if method == "sobol" and n_points > _SOBOL_MAX:
            raise ScanError(f"scan.n_points: a Sobol' scan supports at most 2^32 points, got {n_points}")
        return cls(box, method, int(n_points), int(chunk_size), int(seed), int(grid_points_per_dim))

    @property
    def n_chunks(self) -> int:
        return -(-self.n_points // self.chunk_size)

    def chunk_bounds(self, i: int) -> tuple[int, int]:
        start = i * self.chunk_size
        return start, min(start + self.chunk_size, self.n_points)

    def unit_points(self, i: int) -> np.ndarray:
        """Chunk ``i`` as a float64 array (m, d) in [0, 1]; only ``m <= chunk_size`` points exist."""
        start, stop = self.chunk_bounds(i)
        m, d = stop - start, self.box.dim
        if m <= 0:
            raise IndexError(f"chunk {i} out of range (n_chunks = {self.n_chunks})")
        if self.method == "random":
            if self._uniform is None:
                shape = (self.chunk_size, d)
                self._uniform = jax.jit(lambda key, j: jax.random.uniform(
                    jax.random.fold_in(key, j), shape, dtype=jnp.float64))
            key = jax.random.key(self.seed)
            return np.asarray(self._uniform(key, jnp.uint32(i)))[:m]
        if self.method == "sobol":
            from scipy.stats import qmc

            if self._sobol is None or self._sobol_pos != start:
                self._sobol = qmc.Sobol(d, scramble=True, bits=32, rng=np.random.default_rng(self.seed))
                if start:
                    self._sobol.fast_forward(start)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*balance properties.*")
                u = self._sobol.random(m)
            self._sobol_pos = stop
            return np.ascontiguousarray(u, dtype=np.float64)
        k = self.grid_points_per_dim
        idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), (k,) * d)
        return np.stack(idx, axis=1).astype(np.float64) / (k - 1)

    def fingerprint(self) -> dict[str, Any]:
        return {"box": self.box.as_json(), "method": self.method, "n_points": self.n_points,
                "chunk_size": self.chunk_size, "seed": self.seed,
                "grid_points_per_dim": self.grid_points_per_dim}


# ----------------------------------------------------------------------------------------------
# Sharded evaluation


def _gather(x) -> np.ndarray:
    if getattr(x, "is_fully_addressable", True):
        return np.asarray(x)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


class ShardedEvaluator:
    """``point_fn`` vmapped, jitted and sharded over ``devices`` along the batch axis.

    Call with unit-cube points ``u`` (m, d), ``m <= batch``; rows are padded (by repeating the last
    point) to ``padded = ceil(batch / n_devices) n_devices`` so one compiled shape serves every chunk.
    Returns ``(x, outputs)`` as host numpy arrays of length ``m``.
    """

    def __init__(self, point_fn: Callable[[dict], Mapping[str, Any]], box: ScanBox, batch: int,
                 devices: Sequence[Any] | None = None):
        self.box = box
        self.devices = list(devices) if devices is not None else jax.devices()
        n = len(self.devices)
        self.padded = -(-batch // n) * n
        mesh = Mesh(np.asarray(self.devices), ("batch",))
        self.sharding = NamedSharding(mesh, PartitionSpec("batch"))

        def _eval(u):
            x = box.to_physical(u)
            free = {nm: x[:, j] for j, nm in enumerate(box.free)}
            fixed = {nm: jnp.full(u.shape[:1], v, dtype=x.dtype) for nm, v in box.fixed}
            params = {nm: free[nm] if nm in free else fixed[nm] for nm in box.names}
            out = jax.vmap(point_fn)(params)
            if not isinstance(out, Mapping):
                raise TypeError(f"point_fn must return a dict of arrays, got {type(out).__name__}")
            return x, {str(k): jnp.asarray(v) for k, v in out.items()}

        self._fn = jax.jit(_eval, in_shardings=self.sharding, out_shardings=self.sharding)

    def __call__(self, u: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        m = u.shape[0]
        if m > self.padded:
            raise ValueError(f"chunk of {m} points exceeds the evaluator batch {self.padded}")
        if m < self.padded:
            u = np.concatenate([u, np.repeat(u[-1:], self.padded - m, axis=0)], axis=0)
        arr = jax.make_array_from_callback(u.shape, self.sharding, lambda idx: u[idx])
        x, out = self._fn(arr)
        return _gather(x)[:m], {k: _gather(v)[:m] for k, v in out.items()}


# ----------------------------------------------------------------------------------------------
# Streaming summaries


@dataclass
class ScanSummary:
    """Running totals that need no stored points: counts, best point, 2D histograms per projection."""

    projections: tuple[tuple[str, str], ...]
    bins: int
    n_done: int = 0
    n_allowed: int = 0
    n_nonfinite: int = 0
    best_loglike: float | None = None
    best_index: int | None = None
    best_point: dict[str, float] | None = None
    total: dict[str, np.ndarray] = field(default_factory=dict)
    allowed: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        for a, b in self.projections:
            key = f"{a}__{b}"
            self.total.setdefault(key, np.zeros((self.bins, self.bins), np.int64))
            self.allowed.setdefault(key, np.zeros((self.bins, self.bins), np.int64))

    def update(self, box: ScanBox, start: int, u: np.ndarray, x: np.ndarray, allowed: np.ndarray,
               loglike: np.ndarray | None) -> None:
        self.n_done += u.shape[0]
        self.n_allowed += int(np.count_nonzero(allowed))
        if loglike is not None:
            ll = np.asarray(loglike, dtype=np.float64).reshape(u.shape[0], -1)[:, 0]
            finite = np.isfinite(ll)
            self.n_nonfinite += int(u.shape[0] - np.count_nonzero(finite))
            if finite.any():
                j = int(np.argmax(np.where(finite, ll, -np.inf)))
                if self.best_loglike is None or ll[j] > self.best_loglike:
                    self.best_loglike = float(ll[j])
                    self.best_index = start + j
                    self.best_point = {n: float(x[j, i]) for i, n in enumerate(box.free)}
                    self.best_point.update({n: float(v) for n, v in box.fixed})
        b = self.bins
        cell = np.clip(np.floor(u * b).astype(np.int64), 0, b - 1)
        for a, c in self.projections:
            key = f"{a}__{c}"
            flat = cell[:, box.free.index(a)] * b + cell[:, box.free.index(c)]
            self.total[key] += np.bincount(flat, minlength=b * b).reshape(b, b)
            self.allowed[key] += np.bincount(flat[allowed], minlength=b * b).reshape(b, b)

    @property
    def allowed_fraction(self) -> float:
        return self.n_allowed / self.n_done if self.n_done else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {"projections": [list(p) for p in self.projections], "bins": self.bins,
                "n_done": self.n_done, "n_allowed": self.n_allowed, "n_nonfinite": self.n_nonfinite,
                "best_loglike": self.best_loglike, "best_index": self.best_index, "best_point": self.best_point,
                "total": {k: v.tolist() for k, v in self.total.items()},
                "allowed": {k: v.tolist() for k, v in self.allowed.items()}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ScanSummary":
        return cls(projections=tuple(tuple(p) for p in d["projections"]), bins=int(d["bins"]),
                   n_done=int(d["n_done"]), n_allowed=int(d["n_allowed"]), n_nonfinite=int(d["n_nonfinite"]),
                   best_loglike=d["best_loglike"], best_index=d["best_index"], best_point=d["best_point"],
                   total={k: np.asarray(v, np.int64) for k, v in d["total"].items()},
                   allowed={k: np.asarray(v, np.int64) for k, v in d["allowed"].items()})


def _allowed_mask(outputs: Mapping[str, np.ndarray], criterion: str, threshold: float) -> np.ndarray:
    if criterion == "auto":
        criterion = "allowed" if "allowed" in outputs else "loglike"
    if criterion not in outputs:
        raise ScanError(f"scan.criterion: {criterion!r} needs the point function to return an "
                        f"{criterion!r} output; it returns {sorted(outputs)}")
    v = np.asarray(outputs[criterion])
    v = v.reshape(v.shape[0], -1)
    if criterion == "allowed":
        return np.all(v.astype(bool), axis=1)
    return np.all(v >= threshold, axis=1)


# ----------------------------------------------------------------------------------------------
# Ctrl-C handling


@contextlib.contextmanager
def _defer_sigint():
    """Hold SIGINT while a chunk's results and marker are written; deliver it afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda sig, frame: got.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got:
            if callable(old) and old is not signal.default_int_handler:
                old(signal.SIGINT, None)
            raise KeyboardInterrupt


# ----------------------------------------------------------------------------------------------
# Result and the driver


@dataclass
class ScanResult:
    """What a scan did. ``maps[key]`` holds ``total``, ``allowed`` (bins x bins counts), physical
    ``x_edges``/``y_edges`` and the axis names; ``fraction = allowed / total`` (NaN where empty)."""

    n_points: int
    n_done: int
    n_chunks: int
    completed_chunks: int
    n_allowed: int
    allowed_fraction: float
    best_loglike: float | None
    best_point: dict[str, float] | None
    maps: dict[str, dict[str, Any]]
    timings: dict[str, float]
    path: Path | None
    criterion: str
    method: str

    @property
    def complete(self) -> bool:
        return self.completed_chunks == self.n_chunks


def _maps(summary: ScanSummary, box: ScanBox) -> dict[str, dict[str, Any]]:
    out = {}
    for a, b in summary.projections:
        key = f"{a}__{b}"
        tot, alw = summary.total[key], summary.allowed[key]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(tot > 0, alw / np.maximum(tot, 1), np.nan)
        out[key] = {"x": a, "y": b, "total": tot, "allowed": alw, "fraction": frac,
                    "x_edges": box.edges(a, summary.bins), "y_edges": box.edges(b, summary.bins),
                    "x_scale": box.kinds[box.free.index(a)], "y_scale": box.kinds[box.free.index(b)]}
    return out


def _open_store(path: Path, mode: str):
    import zarr

    return zarr.open_group(str(path), mode=mode, zarr_format=3)


def _create_arrays(root, plan: ScanPlan, x: np.ndarray, outputs: Mapping[str, np.ndarray],
                   store_keys: Sequence[str], store_points: bool) -> None:
    n, c = plan.n_points, plan.chunk_size
    if store_points:
        g = root.require_group("params")
        for name in plan.box.free:
            g.create_array(name, shape=(n,), chunks=(c,), dtype="float64", fill_value=np.nan,
                           dimension_names=["point"], overwrite=True)
        g.attrs.update({"fixed": {k: v for k, v in plan.box.fixed},
                        "kinds": dict(zip(plan.box.free, plan.box.kinds))})
    g = root.require_group("outputs")
    for k in store_keys:
        v = outputs[k]
        fill = np.nan if np.issubdtype(v.dtype, np.floating) else (False if v.dtype == bool else 0)
        dims = ["point"] + [f"{k}_dim{j}" for j in range(1, v.ndim)]
        g.create_array(k, shape=(n, *v.shape[1:]), chunks=(c, *v.shape[1:]), dtype=v.dtype,
                       fill_value=fill, dimension_names=dims, overwrite=True)


def _write_maps(root, maps: Mapping[str, Mapping[str, Any]]) -> None:
    g = root.require_group("maps")
    for key, m in maps.items():
        sub = g.require_group(key)
        for name in ("total", "allowed", "x_edges", "y_edges"):
            arr = np.asarray(m[name])
            sub.create_array(name, shape=arr.shape, dtype=arr.dtype, overwrite=True)[...] = arr
        sub.attrs.update({"x": m["x"], "y": m["y"], "x_scale": m["x_scale"], "y_scale": m["y_scale"]})


def run_scan(point_fn: Callable[[dict], Mapping[str, Any]], priors: Sequence[Any] | Mapping[str, Any] | ScanBox,
             *, n_points: int, method: str = "sobol", chunk_size: int = 65536, seed: int = 0,
             out_dir: str | Path | None = None, resume: bool = False, grid_points_per_dim: int = 0,
             projections: Sequence[Sequence[str]] = (), bins: int = 50, store: Sequence[str] = ("all",),
             store_points: bool = True, criterion: str = "auto", loglike_threshold: float = -2.302585092994046,
             progress: bool | None = None, devices: Sequence[Any] | None = None,
             on_chunk: Callable[[int, ScanSummary], None] | None = None) -> ScanResult:
    """Evaluate ``point_fn`` over ``n_points`` points of the prior box, streamed and sharded.

    Args:
      point_fn: one point's ``dict[name, scalar] -> dict[str, Array]`` (vmapped and jitted here); for
        the summaries it should return ``loglike`` and/or a boolean ``allowed``.
      priors: run-file priors, a ``{name: (type, low, high) | value}`` mapping, or a :class:`ScanBox`.
      n_points, method, chunk_size, seed, grid_points_per_dim: see :class:`ScanPlan`.
      out_dir: folder for ``scan.zarr``, ``scan_state.json``, ``scan_summary.json`` (None: summaries
        only, nothing written). A folder already holding a scan is refused unless ``resume=True``.
      resume: continue from the last complete chunk (settings must match the stored ones).
      projections, bins: 2D exclusion maps to accumulate (pairs of free parameter names).
      store: outputs to write (``("all",)`` or a list of names); store_points: write parameter values.
      criterion, loglike_threshold: a point is allowed if its ``allowed`` output is true
        (``"allowed"``), or ``loglike >= loglike_threshold`` (``"loglike"``); ``"auto"`` picks
        ``allowed`` when returned.
      progress: tqdm bar (default: only when stderr is a TTY). devices: default ``jax.devices()``.
      on_chunk: called as ``on_chunk(chunk_index, summary)`` after each chunk is durable.

    Returns:
      :class:`ScanResult`. Ctrl-C (``KeyboardInterrupt``) leaves the last complete chunk on disk,
      prints how to resume and re-raises.
    """
    require_x64("djax.inference.run_scan")
    if criterion not in CRITERIA:
        raise ScanError(f"scan.criterion: expected one of {CRITERIA}, got {criterion!r}")
    box = priors if isinstance(priors, ScanBox) else ScanBox.from_priors(priors)
    plan = ScanPlan.make(box, n_points=n_points, method=method, chunk_size=chunk_size, seed=seed,
                         grid_points_per_dim=grid_points_per_dim)
    projections = tuple((str(a), str(b)) for a, b in projections)
    for a, b in projections:
        for s in (a, b):
            if s not in box.free:
                raise ScanError(f"scan.projections: {s!r} is not a free parameter ({', '.join(box.free)})")
    store = tuple(store)
    settings = {"plan": plan.fingerprint(), "projections": [list(p) for p in projections], "bins": int(bins),
                "store": list(store), "store_points": bool(store_points), "criterion": criterion,
                "loglike_threshold": float(loglike_threshold)}
    writer = jax.process_index() == 0
    t_start = time.perf_counter()
    timings = {"generate_s": 0.0, "evaluate_s": 0.0, "write_s": 0.0, "first_chunk_s": 0.0}

    # --- state / resume ----------------------------------------------------------------------
    summary = ScanSummary(projections, int(bins))
    start_chunk, root, out_keys = 0, None, None
    out_path = None if out_dir is None else Path(out_dir)
    if out_path is not None:
        state_path = out_path / STATE_FILE
        if state_path.is_file():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            if not resume:
                raise ScanError(f"{out_path} already holds a scan ({state['completed_chunks']}/"
                                f"{state['n_chunks']} chunks done); resume it (resume=True, `--resume`) or "
                                "choose another output folder")
            diff = [k for k in settings if json.dumps(state["settings"].get(k), sort_keys=True)
                    != json.dumps(settings[k], sort_keys=True)]
            if diff:
                raise ScanError(f"cannot resume the scan in {out_path}: settings differ from the stored "
                                f"ones in {', '.join(diff)} (stored: "
                                f"{json.dumps({k: state['settings'].get(k) for k in diff})})")
            start_chunk = int(state["completed_chunks"])
            summary = ScanSummary.from_json(state["summary"])
            out_keys = state["output_keys"]
            for k, v in state.get("timings", {}).items():
                timings[f"previous_{k}"] = v
            root = _open_store(out_path / STORE_DIR, "r+" if writer else "r")
        elif writer:
            out_path.mkdir(parents=True, exist_ok=True)
            root = _open_store(out_path / STORE_DIR, "w")  # no marker: nothing complete to keep

    def _save_state(completed: int) -> None:
        from djax.io._outputs import atomic_write_json

        timings["total_s"] = time.perf_counter() - t_start
        atomic_write_json(out_path / STATE_FILE, {
            "format": "djax-scan", "version": _STATE_VERSION, "completed_chunks": completed,
            "n_chunks": plan.n_chunks, "n_points": plan.n_points, "settings": settings,
            "output_keys": out_keys, "summary": summary.to_json(), "timings": timings})

    def _result(completed: int) -> ScanResult:
        return ScanResult(n_points=plan.n_points, n_done=summary.n_done, n_chunks=plan.n_chunks,
                          completed_chunks=completed, n_allowed=summary.n_allowed,
                          allowed_fraction=summary.allowed_fraction, best_loglike=summary.best_loglike,
                          best_point=summary.best_point, maps=_maps(summary, box), timings=dict(timings),
                          path=out_path, criterion=criterion, method=plan.method)

    def _finish(completed: int) -> ScanResult:
        res = _result(completed)
        if out_path is not None and writer:
            if res.complete:
                _write_maps(root, res.maps)
                root.attrs.update({"completed_chunks": completed, "n_chunks": plan.n_chunks})
            from djax.io._outputs import atomic_write_json

            atomic_write_json(out_path / SUMMARY_FILE, scan_summary_json(res, settings))
        return res

    if start_chunk >= plan.n_chunks:
        return _finish(start_chunk)

    # --- main loop ---------------------------------------------------------------------------
    evaluator = ShardedEvaluator(point_fn, box, plan.chunk_size, devices)
    timings["devices"] = len(evaluator.devices)
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    bar = tqdm(total=plan.n_points, initial=summary.n_done, unit="pt", unit_scale=True, disable=not progress,
               desc=f"scan ({plan.method}, {len(evaluator.devices)} dev)")
    completed = start_chunk
    n_done0 = summary.n_done
    try:
        for i in range(start_chunk, plan.n_chunks):
            t0 = time.perf_counter()
            u = plan.unit_points(i)
            t1 = time.perf_counter()
            x, outputs = evaluator(u)
            t2 = time.perf_counter()
            if i == start_chunk:
                timings["first_chunk_s"] = t2 - t1
            if out_keys is None:
                out_keys = sorted(outputs) if store == ("all",) else list(store)
                missing = [k for k in out_keys if k not in outputs]
                if missing:
                    raise ScanError(f"scan.store: the point function has no output {missing[0]!r} "
                                    f"(it returns {sorted(outputs)})")
                if root is not None and writer:
                    _create_arrays(root, plan, x, outputs, out_keys, store_points)
            allowed = _allowed_mask(outputs, criterion, loglike_threshold)
            start, stop = plan.chunk_bounds(i)
            with _defer_sigint():
                summary.update(box, start, u, x, allowed, outputs.get("loglike"))
                if root is not None and writer:
                    if store_points:
                        for j, name in enumerate(box.free):
                            root["params"][name][start:stop] = x[:, j]
                    for k in out_keys:
                        root["outputs"][k][start:stop] = outputs[k]
                completed = i + 1
                timings["generate_s"] += t1 - t0
                timings["evaluate_s"] += t2 - t1
                timings["write_s"] += time.perf_counter() - t2
                if out_path is not None and writer:
                    _save_state(completed)
            bar.update(stop - start)
            if on_chunk is not None:
                on_chunk(i, summary)
    except KeyboardInterrupt:
        bar.close()
        if out_path is not None:
            print(f"\nScan interrupted: {completed}/{plan.n_chunks} chunks ({summary.n_done} points) are "
                  f"saved in {out_path}. Resume with `djax scan RUNFILE --resume --out {out_path}` or "
                  "run_scan(..., resume=True).", file=sys.stderr)
            if writer:
                _finish(completed)
        raise
    bar.close()
    timings["total_s"] = time.perf_counter() - t_start
    timings["points_per_s"] = (summary.n_done - n_done0) / max(timings["evaluate_s"], 1e-12)
    return _finish(completed)


def scan_summary_json(res: ScanResult, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JSON-friendly summary of a scan (maps as nested lists)."""
    return {"n_points": res.n_points, "n_done": res.n_done, "complete": res.complete,
            "completed_chunks": res.completed_chunks, "n_chunks": res.n_chunks, "method": res.method,
            "criterion": res.criterion, "n_allowed": res.n_allowed,
            "allowed_fraction": None if math.isnan(res.allowed_fraction) else res.allowed_fraction,
            "best_loglike": res.best_loglike, "best_point": res.best_point, "timings_s": res.timings,
            "settings": dict(settings or {}),
            "maps": {k: {"x": m["x"], "y": m["y"], "x_edges": m["x_edges"].tolist(),
                         "y_edges": m["y_edges"].tolist(), "total": m["total"].tolist(),
                         "allowed": m["allowed"].tolist()} for k, m in res.maps.items()}}


def run_scan_config(point_fn: Callable[[dict], Mapping[str, Any]], config: Any, out_dir: str | Path | None, *,
                    resume: bool = False, **kwargs: Any) -> ScanResult:
    """:func:`run_scan` with the settings of a validated run file (``config.scan``, priors, seed)."""
    s = config.scan
    return run_scan(point_fn, config.priors, n_points=s.n_points, method=s.method, chunk_size=s.chunk_size,
                    seed=config.run.seed, out_dir=out_dir, resume=resume,
                    grid_points_per_dim=s.grid_points_per_dim, projections=s.projections, bins=s.bins,
                    store=s.store, store_points=s.store_points, criterion=s.criterion,
                    loglike_threshold=s.loglike_threshold, **kwargs)


def read_scan(out_dir: str | Path, *, outputs: Sequence[str] | None = None,
              params: bool = True) -> dict[str, np.ndarray]:
    """Load the completed part of a stored scan into memory (``params/NAME`` and ``outputs/NAME``)."""
    out_dir = Path(out_dir)
    state = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    n = min(state["completed_chunks"] * state["settings"]["plan"]["chunk_size"], state["n_points"])
    root = _open_store(out_dir / STORE_DIR, "r")
    res: dict[str, np.ndarray] = {}
    if params and "params" in root:
        for name, arr in root["params"].arrays():
            res[f"params/{name}"] = arr[:n]
    if "outputs" in root:
        for name, arr in root["outputs"].arrays():
            if outputs is None or name in outputs:
                res[f"outputs/{name}"] = arr[:n]
    return res


def plot_scan(out_dir: str | Path, *, fmt: str = "pdf", dest: str | Path | None = None) -> list[Path]:
    """Exclusion maps of a stored scan: allowed fraction per bin, one figure per projection.

    Reads ``scan_summary.json`` (or the state of an unfinished scan); writes ``plots/scan_X__Y.FMT``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from djax.io._outputs import atomic_path

    out_dir = Path(out_dir)
    src = out_dir / SUMMARY_FILE
    if src.is_file():
        maps = json.loads(src.read_text(encoding="utf-8"))["maps"]
    else:
        st = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
        box = ScanBox(**{k: tuple(tuple(f) for f in v) if k == "fixed" else tuple(v)
                         for k, v in st["settings"]["plan"]["box"].items()})
        maps = scan_summary_json(ScanResult(0, 0, 0, 0, 0, float("nan"), None, None,
                                            _maps(ScanSummary.from_json(st["summary"]), box), {}, None, "", ""))["maps"]
    dest = Path(dest) if dest is not None else out_dir / "plots"
    written = []
    for key, m in maps.items():
        tot, alw = np.asarray(m["total"], float), np.asarray(m["allowed"], float)
        frac = np.where(tot > 0, alw / np.maximum(tot, 1), np.nan)
        xe, ye = np.asarray(m["x_edges"]), np.asarray(m["y_edges"])
        fig, ax = plt.subplots(figsize=(5.2, 4.2), layout="constrained")
        pc = ax.pcolormesh(xe, ye, frac.T, vmin=0.0, vmax=1.0, cmap="viridis", shading="flat")
        fig.colorbar(pc, ax=ax, label="allowed fraction")
        if np.nanmax(np.where(np.isfinite(frac), frac, 0)) > 0:
            xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
            ax.contour(xc, yc, (alw > 0).T.astype(float), levels=[0.5], colors="w", linewidths=1.0)
        if xe[0] > 0 and xe[-1] / xe[0] > 50:
            ax.set_xscale("log")
        if ye[0] > 0 and ye[-1] / ye[0] > 50:
            ax.set_yscale("log")
        ax.set_xlabel(m["x"])
        ax.set_ylabel(m["y"])
        ax.set_title(f"scan: {m['x']} vs {m['y']}")
        path = dest / f"scan_{key}.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt)
        plt.close(fig)
        written.append(path)
    return written


def benchmark_point_fn(point_fn: Callable[[dict], Mapping[str, Any]], priors: Any, *, n_points: int = 65536,
                       chunk_size: int = 16384, seed: int = 0, devices: Sequence[Any] | None = None
                       ) -> dict[str, float]:
    """Throughput of ``point_fn`` through the scan machinery (nothing stored): compile + first-chunk
    time, steady-state points per second, device count."""
    res = run_scan(point_fn, priors, n_points=n_points, method="random", chunk_size=chunk_size, seed=seed,
                   out_dir=None, criterion="auto", progress=False, devices=devices)
    t = res.timings
    steady = t["evaluate_s"] - t["first_chunk_s"]
    n_steady = max(n_points - min(chunk_size, n_points), 0)
    return {"n_points": n_points, "chunk_size": chunk_size, "devices": t["devices"],
            "first_chunk_s": t["first_chunk_s"], "evaluate_s": t["evaluate_s"],
            "points_per_s": (n_steady / steady) if n_steady and steady > 0 else float("nan"),
            "total_s": t["total_s"]}


__all__ = ["ScanBox", "ScanPlan", "ScanSummary", "ScanResult", "ScanError", "ShardedEvaluator", "run_scan",
           "run_scan_config", "read_scan", "plot_scan", "scan_summary_json", "benchmark_point_fn"]
