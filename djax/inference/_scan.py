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

import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..errors import DjaxError
from ..model import Prior, SchemaError, latent_to_physical, make_prior
from ..precision import require_x64

SCAN_METHODS = ("random", "grid", "sobol")
SCAN_CRITERIA = ("auto", "allowed", "loglike")
_SOBOL_MAX = 2**32


class ScanError(DjaxError, ValueError):
    """A scan cannot start or resume as asked; the message starts with the setting at fault (``key: what``)."""

    def __init__(self, message: str, *, file: str | None = None):
        key, sep, what = message.partition(": ")
        if not sep:
            key, what = "scan", message
        super().__init__(file or "<scan>", key, what)


@dataclass(frozen=True)
class ScanBox:
    """The prior box of a scan: the priors (:class:`djax.model.Prior`) in canonical order.

    ``names`` keeps the canonical order of all parameters; ``free`` the order of the unit-cube axes; a unit-cube
    coordinate is uniform in the prior's latent variable (x itself, ln x or asinh(x/s)).
    """

    priors: tuple[Prior, ...]

    @classmethod
    def from_priors(cls, priors: Sequence[Any] | Mapping[str, Any]) -> ScanBox:
        """From priors (``djax.model.Prior`` objects) or a mapping accepted by :func:`djax.model.resolve_priors`
        restricted to the given names (``name -> (type, low, high[, scale]) | number | Prior``)."""
        try:
            items = cls._items(priors)
        except SchemaError as exc:
            raise ScanError(f"{exc.key}: {exc.message}") from None
        if not any(not p.is_fixed for p in items):
            raise ScanError("priors: no free parameter to scan")
        return cls(tuple(items))

    @staticmethod
    def _items(priors):
        if isinstance(priors, Mapping):
            items = []
            for n, v in priors.items():
                if isinstance(v, Prior):
                    items.append(v)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    items.append(make_prior(n, "fixed", value=float(v), model_parameter=False))
                else:
                    kind, lo, hi, *rest = v
                    items.append(make_prior(n, kind, lo, hi, scale=rest[0] if rest else None, model_parameter=False))
        else:
            items = list(priors)
        return items

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)

    @property
    def free(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors if not p.is_fixed)

    @property
    def free_priors(self) -> tuple[Prior, ...]:
        return tuple(p for p in self.priors if not p.is_fixed)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(p.type for p in self.free_priors)

    @property
    def fixed(self) -> tuple[tuple[str, float], ...]:
        return tuple((p.name, float(p.value)) for p in self.priors if p.is_fixed)

    @property
    def dim(self) -> int:
        return len(self.free)

    def to_physical(self, u):
        """Map unit-cube points ``u`` (..., d) to physical values (same shape); works on jnp or np."""
        xp = jnp if isinstance(u, jax.Array) else np
        bounds = [p.latent_bounds() for p in self.free_priors]
        lo = xp.asarray([b[0] for b in bounds], dtype=u.dtype)
        hi = xp.asarray([b[1] for b in bounds], dtype=u.dtype)
        return latent_to_physical(lo + u * (hi - lo), self.free_priors, xp)

    def edges(self, name: str, bins: int) -> np.ndarray:
        """Physical bin edges (``bins + 1``) of a free parameter (uniform in the prior's latent variable)."""
        j = self.free.index(name)
        return np.asarray(self.free_priors[j].from_unit(np.linspace(0.0, 1.0, bins + 1)))

    def as_json(self) -> dict[str, Any]:
        return {p.name: p.as_dict() for p in self.priors}


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
    def make(
        cls,
        box: ScanBox,
        *,
        n_points: int,
        method: str = "random",
        chunk_size: int = 65536,
        seed: int = 0,
        grid_points_per_dim: int = 0,
    ) -> ScanPlan:
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
                raise ScanError(
                    f"scan.n_points: {n_points} points are too few for a grid over {d} free "
                    f"parameters (at least 2^{d} = {2**d} needed), or set scan.grid_points_per_dim"
                )
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
                self._uniform = jax.jit(
                    lambda key, j: jax.random.uniform(jax.random.fold_in(key, j), shape, dtype=jnp.float64)
                )
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
        return {
            "box": self.box.as_json(),
            "method": self.method,
            "n_points": self.n_points,
            "chunk_size": self.chunk_size,
            "seed": self.seed,
            "grid_points_per_dim": self.grid_points_per_dim,
        }


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

    def __init__(
        self,
        point_fn: Callable[[dict], Mapping[str, Any]],
        box: ScanBox,
        batch: int,
        devices: Sequence[Any] | None = None,
    ):
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

    def update(
        self, box: ScanBox, start: int, u: np.ndarray, x: np.ndarray, allowed: np.ndarray, loglike: np.ndarray | None
    ) -> None:
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
        return {
            "projections": [list(p) for p in self.projections],
            "bins": self.bins,
            "n_done": self.n_done,
            "n_allowed": self.n_allowed,
            "n_nonfinite": self.n_nonfinite,
            "best_loglike": self.best_loglike,
            "best_index": self.best_index,
            "best_point": self.best_point,
            "total": {k: v.tolist() for k, v in self.total.items()},
            "allowed": {k: v.tolist() for k, v in self.allowed.items()},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ScanSummary:
        return cls(
            projections=tuple(tuple(p) for p in d["projections"]),
            bins=int(d["bins"]),
            n_done=int(d["n_done"]),
            n_allowed=int(d["n_allowed"]),
            n_nonfinite=int(d["n_nonfinite"]),
            best_loglike=d["best_loglike"],
            best_index=d["best_index"],
            best_point=d["best_point"],
            total={k: np.asarray(v, np.int64) for k, v in d["total"].items()},
            allowed={k: np.asarray(v, np.int64) for k, v in d["allowed"].items()},
        )


def _allowed_mask(outputs: Mapping[str, np.ndarray], criterion: str, threshold: float) -> np.ndarray:
    if criterion == "auto":
        criterion = "allowed" if "allowed" in outputs else "loglike"
    if criterion not in outputs:
        raise ScanError(
            f"scan.criterion: {criterion!r} needs the point function to return an "
            f"{criterion!r} output; it returns {sorted(outputs)}"
        )
    v = np.asarray(outputs[criterion])
    v = v.reshape(v.shape[0], -1)
    if criterion == "allowed":
        return np.all(v.astype(bool), axis=1)
    return np.all(v >= threshold, axis=1)


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
    criterion: str
    method: str

    @property
    def complete(self) -> bool:
        return self.completed_chunks == self.n_chunks


def scan_maps(summary: ScanSummary, box: ScanBox) -> dict[str, dict[str, Any]]:
    out = {}
    for a, b in summary.projections:
        key = f"{a}__{b}"
        tot, alw = summary.total[key], summary.allowed[key]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(tot > 0, alw / np.maximum(tot, 1), np.nan)
        out[key] = {
            "x": a,
            "y": b,
            "total": tot,
            "allowed": alw,
            "fraction": frac,
            "x_edges": box.edges(a, summary.bins),
            "y_edges": box.edges(b, summary.bins),
            "x_scale": box.kinds[box.free.index(a)],
            "y_scale": box.kinds[box.free.index(b)],
        }
    return out


class ScanStore(Protocol):
    """Where :func:`run_scan` streams its chunks (``djax.io.ScanStore`` writes a Zarr v3 store + state file).

    ``load()``: None, or the stored state ``{"settings", "completed_chunks", "summary", "output_keys"}``
    (checksums verified); ``create(plan, x, outputs, keys, store_points)``: make the arrays on the first chunk;
    ``write_chunk(i, start, stop, x, outputs, state)``: store chunk ``i`` and then the state atomically;
    ``finish(result, settings)``: write maps and the summary.
    """

    def load(self) -> dict | None: ...

    def create(self, plan, x, outputs, keys, store_points) -> None: ...

    def write_chunk(self, i, start, stop, x, outputs, state) -> None: ...

    def finish(self, result, settings) -> None: ...


def scan_settings(plan: ScanPlan, projections, bins, store, store_points, criterion, loglike_threshold) -> dict:
    """Everything that determines a scan's stored results (compared on resume)."""
    return {
        "plan": plan.fingerprint(),
        "projections": [list(p) for p in projections],
        "bins": int(bins),
        "store": list(store),
        "store_points": bool(store_points),
        "criterion": criterion,
        "loglike_threshold": float(loglike_threshold),
    }


def run_scan(
    point_fn: Callable[[dict], Mapping[str, Any]],
    priors: Sequence[Any] | Mapping[str, Any] | ScanBox,
    *,
    n_points: int,
    method: str = "sobol",
    chunk_size: int = 65536,
    seed: int = 0,
    store: ScanStore | None = None,
    grid_points_per_dim: int = 0,
    projections: Sequence[Sequence[str]] = (),
    bins: int = 50,
    store_keys: Sequence[str] = ("all",),
    store_points: bool = True,
    criterion: str = "auto",
    loglike_threshold: float = -2.302585092994046,
    progress: bool | None = None,
    devices: Sequence[Any] | None = None,
    on_chunk: Callable[[int, ScanSummary], None] | None = None,
) -> ScanResult:
    """Evaluate ``point_fn`` over ``n_points`` points of the prior box, streamed and sharded.

    Args:
      point_fn: one point's ``dict[name, scalar] -> dict[str, Array]`` (vmapped and jitted here); for
        the summaries it should return ``loglike`` and/or a boolean ``allowed``.
      priors: priors (``djax.model.Prior`` objects), a ``{name: (type, low, high) | value}`` mapping, or a
        :class:`ScanBox`.
      n_points, method, chunk_size, seed, grid_points_per_dim: see :class:`ScanPlan`.
      store: where chunks go (see :class:`ScanStore`); a store holding a scan continues it from the first
        incomplete chunk (bit-for-bit equal to an uninterrupted scan). None: summaries only.
      projections, bins: 2D exclusion maps to accumulate (pairs of free parameter names).
      store_keys: outputs to write (``("all",)`` or a list of names); store_points: write parameter values.
      criterion, loglike_threshold: a point is allowed if its ``allowed`` output is true
        (``"allowed"``), or ``loglike >= loglike_threshold`` (``"loglike"``); ``"auto"`` picks
        ``allowed`` when returned.
      progress: tqdm bar (default: only when stderr is a TTY). devices: default ``jax.devices()``.
      on_chunk: called as ``on_chunk(chunk_index, summary)`` after each chunk is durable.

    Returns:
      :class:`ScanResult`. ``KeyboardInterrupt`` leaves the last complete chunk in the store and re-raises.
    """
    require_x64("djax.inference.run_scan")
    if criterion not in SCAN_CRITERIA:
        raise ScanError(f"scan.criterion: expected one of {SCAN_CRITERIA}, got {criterion!r}")
    box = priors if isinstance(priors, ScanBox) else ScanBox.from_priors(priors)
    plan = ScanPlan.make(
        box, n_points=n_points, method=method, chunk_size=chunk_size, seed=seed, grid_points_per_dim=grid_points_per_dim
    )
    projections = tuple((str(a), str(b)) for a, b in projections)
    for a, b in projections:
        for s in (a, b):
            if s not in box.free:
                raise ScanError(f"scan.projections: {s!r} is not a free parameter ({', '.join(box.free)})")
    store_keys = tuple(store_keys)
    settings = scan_settings(plan, projections, bins, store_keys, store_points, criterion, loglike_threshold)
    t_start = time.perf_counter()
    timings = {"generate_s": 0.0, "evaluate_s": 0.0, "write_s": 0.0, "first_chunk_s": 0.0}

    summary = ScanSummary(projections, int(bins))
    start_chunk, out_keys = 0, None
    state = store.load() if store is not None else None
    if state is not None:
        diff = [
            k
            for k in settings
            if json.dumps(state["settings"].get(k), sort_keys=True) != json.dumps(settings[k], sort_keys=True)
        ]
        if diff:
            raise ScanError(f"cannot resume the scan: settings differ from the stored ones in {', '.join(diff)}")
        start_chunk = int(state["completed_chunks"])
        summary = ScanSummary.from_json(state["summary"])
        out_keys = state["output_keys"]
        for k, val in state.get("timings", {}).items():
            if not k.startswith("previous_"):
                timings[f"previous_{k}"] = val

    def _state(completed: int) -> dict:
        timings["total_s"] = time.perf_counter() - t_start
        return {
            "completed_chunks": completed,
            "n_chunks": plan.n_chunks,
            "n_points": plan.n_points,
            "settings": settings,
            "output_keys": out_keys,
            "summary": summary.to_json(),
            "timings": dict(timings),
        }

    def _result(completed: int) -> ScanResult:
        return ScanResult(
            n_points=plan.n_points,
            n_done=summary.n_done,
            n_chunks=plan.n_chunks,
            completed_chunks=completed,
            n_allowed=summary.n_allowed,
            allowed_fraction=summary.allowed_fraction,
            best_loglike=summary.best_loglike,
            best_point=summary.best_point,
            maps=scan_maps(summary, box),
            timings=dict(timings),
            criterion=criterion,
            method=plan.method,
        )

    def _finish(completed: int) -> ScanResult:
        res = _result(completed)
        if store is not None:
            store.finish(res, settings)
        return res

    if start_chunk >= plan.n_chunks:
        return _finish(start_chunk)

    evaluator = ShardedEvaluator(point_fn, box, plan.chunk_size, devices)
    timings["devices"] = len(evaluator.devices)
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    bar = tqdm(
        total=plan.n_points,
        initial=summary.n_done,
        unit="pt",
        unit_scale=True,
        disable=not progress,
        desc=f"scan ({plan.method}, {len(evaluator.devices)} dev)",
    )
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
                out_keys = sorted(outputs) if store_keys == ("all",) else list(store_keys)
                missing = [k for k in out_keys if k not in outputs]
                if missing:
                    raise ScanError(
                        f"scan.store: the point function has no output {missing[0]!r} (it returns {sorted(outputs)})"
                    )
                if store is not None:
                    store.create(plan, x, outputs, out_keys, store_points)
            allowed = _allowed_mask(outputs, criterion, loglike_threshold)
            start, stop = plan.chunk_bounds(i)
            summary.update(box, start, u, x, allowed, outputs.get("loglike"))
            completed = i + 1
            timings["generate_s"] += t1 - t0
            timings["evaluate_s"] += t2 - t1
            if store is not None:
                store.write_chunk(
                    i, start, stop, x if store_points else None, {k: outputs[k] for k in out_keys}, _state(completed)
                )
            timings["write_s"] += time.perf_counter() - t2
            bar.update(stop - start)
            if on_chunk is not None:
                on_chunk(i, summary)
    except KeyboardInterrupt:
        bar.close()
        _finish(completed)  # the summary of the durable part; the store's state says where to resume
        raise
    finally:
        bar.close()
    timings["total_s"] = time.perf_counter() - t_start
    timings["points_per_s"] = (summary.n_done - n_done0) / max(timings["evaluate_s"], 1e-12)
    return _finish(completed)


def benchmark_point_fn(
    point_fn: Callable[[dict], Mapping[str, Any]],
    priors: Any,
    *,
    n_points: int = 65536,
    chunk_size: int = 16384,
    seed: int = 0,
    devices: Sequence[Any] | None = None,
) -> dict[str, float]:
    """Throughput of ``point_fn`` through the scan machinery (nothing stored): compile + first-chunk
    time, steady-state points per second, device count."""
    res = run_scan(
        point_fn,
        priors,
        n_points=n_points,
        method="random",
        chunk_size=chunk_size,
        seed=seed,
        criterion="auto",
        progress=False,
        devices=devices,
    )
    t = res.timings
    steady = t["evaluate_s"] - t["first_chunk_s"]
    n_steady = max(n_points - min(chunk_size, n_points), 0)
    return {
        "n_points": n_points,
        "chunk_size": chunk_size,
        "devices": t["devices"],
        "first_chunk_s": t["first_chunk_s"],
        "evaluate_s": t["evaluate_s"],
        "points_per_s": (n_steady / steady) if n_steady and steady > 0 else float("nan"),
        "total_s": t["total_s"],
    }


__all__ = [
    "ScanBox",
    "ScanPlan",
    "ScanSummary",
    "ScanResult",
    "ScanError",
    "ScanStore",
    "ShardedEvaluator",
    "run_scan",
    "scan_settings",
    "scan_maps",
    "benchmark_point_fn",
    "SCAN_METHODS",
    "SCAN_CRITERIA",
]
