r"""Export djax's dipole coefficients as a WCxf file (``WET`` / ``WET-4`` / ``WET-3`` EFT, ``flavio`` basis).

djax computes the charged-lepton dipole matrix in flavio's WET convention (``djax.observables(p)
["dipole_C_GeV"]``, docs/physics.md section 3)::

    L = C^{ji} (lbar_j sigma^{mu nu} P_R l_i) F_{mu nu} + h.c.      (row j outgoing, column i decaying lepton)

WCxf names (checked in ``wilson/wcxf/bases/wet*.flavio.basis.json`` of wilson 2.5): ``Cgamma_<a><b>`` is the
coefficient of ``(bbar_L sigma^{mu nu} a_R) F_{mu nu}``, i.e. ``Cgamma_<a><b> = C^{ba}`` (first index = the
right-handed, decaying lepton), in GeV^-1, no extra normalisation:

=================  =========================  =================================================
WCxf key           djax entry                 enters
=================  =========================  =================================================
``Cgamma_mue``     ``C[e, mu]``  = C^{e mu}   mu -> e gamma (mu_R -> e_L), mu -> 3e, mu -> e conv.
``Cgamma_emu``     ``C[mu, e]``  = C^{mu e}   mu -> e gamma (mu_L -> e_R, through the h.c.)
``Cgamma_taumu``   ``C[mu, tau]``             tau -> mu gamma
``Cgamma_mutau``   ``C[tau, mu]``             tau -> mu gamma
``Cgamma_taue``    ``C[e, tau]``              tau -> e gamma
``Cgamma_etau``    ``C[tau, e]``              tau -> e gamma
=================  =========================  =================================================

flavio's ``BR(l_i -> l_j gamma)`` (``flavio.physics.taudecays.taulgamma.BR_llgamma``) uses the tensor couplings
``gTR = 2 Cgamma_{ij}``, ``gTL = 2 Cgamma_{ji}^*`` and returns ``tau_i m_i^3 (1 - m_j^2/m_i^2)^3
(|Cgamma_ij|^2 + |Cgamma_ji|^2) / (4 pi)``: djax's formula term by term.

The flavio basis has no flavour-diagonal ``Cgamma_ll``; the diagonal dipoles are the dimensionless ``C7_ll``
of the ``dF=0`` sector, normalised as ``(4 G_F/sqrt 2) (e/16 pi^2) m_l (lbar_L sigma^{mu nu} l_R) F_{mu nu}``::

    C7_ll = 4 sqrt(2) pi^2 / (G_F e m_l) * C^{ll}

with djax's inputs (``djax.constants``: G_F, e = sqrt(4 pi alpha(0)), pole masses), so that flavio's
``a_l = a_l^SM + m_l^2 G_F / (sqrt(2) pi^2) Re C7_ll`` reproduces ``Delta a_l = (4 m_l/e) Re C^{ll}`` (e cancels;
flavio's G_F and m_l equal djax's for e and mu). ``C7_tautau`` exists only in WET-4 and WET; WET-3 has no tau
(its ``mutau``/``taue`` sectors and ``C7_tautau`` are dropped).

Scale and EFT (which make flavio agree with djax): djax applies no renormalisation-group running, the dipole
computed at the loop (matching) level is used directly at the lepton mass. flavio evaluates ``BR(mu->egamma)``
from ``WET-4`` coefficients at its ``renormalization scale`` ``mudecays`` = 1.0 GeV and tau decays at
``taudecays`` = 1.8 GeV (flavio 2.7 ``config.yml``); wilson runs (QED, one loop) whenever the file's scale or EFT
differ. So:

* default ``scale = 1.0`` GeV, ``eft = "WET-4"``: flavio's ``BR(mu->egamma)`` equals djax's to rounding (no
  running is applied; with flavio's default inputs the only difference is tau_mu: 3.4e-8 relative). flavio's
  tau BRs then include running 1.0 -> 1.8 GeV (+1.45 % in BR).
* ``scale = 1.8`` (``FLAVIO_SCALES["taudecays"]``), ``eft = "WET-4"``: tau BRs agree to rounding (with djax's
  m_tau, tau_tau; flavio's default m_tau and tau_tau move the BR by +3.6e-5), mu -> e gamma runs (-1.44 %).
* ``eft = "WET-3"`` at 1.0 GeV: flavio's ``a_e``, ``a_mu`` read exactly these coefficients (they are evaluated
  in WET-3 at 1.0 GeV); from a WET-4 file they pass through the charm threshold (1.3 GeV) and shift by
  -1.7e-4 relative (a_mu and a_e). flavio cannot evaluate ``BR(mu->egamma)`` from a WET-3 file
  (wilson does not run WET-3 up to WET-4).
* ``eft = "WET"`` (scale >= 4.2 GeV): e.g. at m_b = 4.2 GeV flavio's BR(mu->e gamma) is 3.4 % below djax
  (running down to 1 GeV); use it to state that djax's coefficients are matching-scale coefficients.

API: :func:`wcxf` (dict, optionally written to JSON/YAML), :func:`wcxf_values` (the key/value map of a 3x3
matrix), :func:`dipole_matrix_from_wcxf` (the inverse map).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import constants as C

#: flavio 2.7's ``config['renormalization scale']`` for the processes the export serves (GeV).
FLAVIO_SCALES = {"mudecays": 1.0, "taudecays": 1.8, "e g-2": 1.0}
#: Default export scale: flavio's mu-decay scale (BR(mu->egamma) with no running).
DEFAULT_SCALE = FLAVIO_SCALES["mudecays"]
#: wilson's default b- and c-quark matching scales (Wilson options ``mb_matchingscale``, ``mc_matchingscale``).
MB_MATCHING_SCALE = 4.2
MC_MATCHING_SCALE = 1.3
#: Upper end of the weak effective theory (wilson's ``smeft_matchingscale``).
EW_SCALE = 91.1876

_FLAVOURS = ("e", "mu", "tau")
#: ``(row j, column i) -> WCxf name`` of the off-diagonal entries: ``Cgamma_<i><j> = C[j, i]``.
OFFDIAGONAL_KEYS = {(j, i): f"Cgamma_{_FLAVOURS[i]}{_FLAVOURS[j]}" for i in range(3) for j in range(3) if i != j}
#: ``l -> WCxf name`` of the diagonal (dF=0) dipoles.
DIAGONAL_KEYS = {i: f"C7_{_FLAVOURS[i] * 2}" for i in range(3)}
#: ``WCxf sector -> keys`` written.
SECTORS = {
    "mue": ("Cgamma_mue", "Cgamma_emu"),
    "mutau": ("Cgamma_taumu", "Cgamma_mutau"),
    "taue": ("Cgamma_taue", "Cgamma_etau"),
    "dF=0": ("C7_ee", "C7_mumu", "C7_tautau"),
}
_EFTS = ("WET", "WET-4", "WET-3")


def _c7_factor(i: int) -> float:
    """C7_ll / C^{ll} = 4 sqrt(2) pi^2 / (G_F e m_l) with djax's inputs."""
    return 4.0 * math.sqrt(2.0) * math.pi**2 / (C.G_F * C.E_CHARGE * C.M_LEPTONS[i])


def _default_eft(scale: float) -> str:
    return "WET-4" if scale < MB_MATCHING_SCALE else "WET"


def _number(z: complex):
    """WCxf value: a float if real, else ``{"Re": ..., "Im": ...}``."""
    z = complex(z)
    return float(z.real) if z.imag == 0 else {"Re": float(z.real), "Im": float(z.imag)}


def _to_complex(v) -> complex:
    if isinstance(v, Mapping):
        return complex(float(v.get("Re", 0.0)), float(v.get("Im", 0.0)))
    return complex(v)


def wcxf_values(C_matrix, *, eft: str = "WET-4", diagonal: bool = True) -> dict:
    """WCxf ``values`` of a 3x3 dipole matrix ``C^{ji}`` (GeV^-1): the ``Cgamma_*`` and, with ``diagonal``,
    the ``C7_ll`` (zeros included, so every dipole of the export is stated)."""
    Cm = np.asarray(C_matrix, dtype=complex)
    if Cm.shape != (3, 3):
        raise ValueError(f"wcxf_values: expected a 3x3 dipole matrix, got shape {Cm.shape}")
    if not np.all(np.isfinite(Cm)):
        raise ValueError("wcxf_values: the dipole matrix has NaN or inf entries")
    has_tau = eft != "WET-3"
    out: dict[str, Any] = {}
    for (j, i), key in OFFDIAGONAL_KEYS.items():
        if has_tau or 2 not in (i, j):
            out[key] = _number(Cm[j, i])
    if diagonal:
        for i, key in DIAGONAL_KEYS.items():
            if has_tau or i != 2:
                out[key] = _number(_c7_factor(i) * Cm[i, i])
    # canonical order: mue, mutau, taue, dF=0
    order = [k for ks in SECTORS.values() for k in ks]
    return {k: out[k] for k in order if k in out}


def dipole_matrix_from_wcxf(wc: Mapping) -> np.ndarray:
    """The 3x3 ``C^{ji}`` (GeV^-1) from a WCxf dict (``{"values": ...}`` or the values themselves) written by
    :func:`wcxf`; entries absent from the file are 0."""
    values = wc.get("values", wc) if isinstance(wc, Mapping) else wc
    Cm = np.zeros((3, 3), dtype=complex)
    for (j, i), key in OFFDIAGONAL_KEYS.items():
        if key in values:
            Cm[j, i] = _to_complex(values[key])
    for i, key in DIAGONAL_KEYS.items():
        if key in values:
            Cm[i, i] = _to_complex(values[key]) / _c7_factor(i)
    return Cm


def _plain(x):
    """JSON/YAML-safe plain data of a parameter value (floats, lists, Re/Im dicts for complex)."""
    a = np.asarray(x)
    if np.iscomplexobj(a):
        if a.ndim == 0:
            return _number(complex(a))
        return [_plain(v) for v in a]
    if a.ndim == 0:
        return float(a)
    return [float(v) for v in a.ravel()] if a.ndim == 1 else [_plain(v) for v in a]


def _metadata(params, obs, eft: str, scale: float) -> dict:
    import djax

    point = {name: _plain(getattr(params, name)) for name in djax.model.FIELDS if getattr(params, name) is not None}
    predictions = {
        k: float(np.asarray(obs[k]))
        for k in (
            "br_mu_e_gamma",
            "br_tau_mu_gamma",
            "br_tau_e_gamma",
            "delta_a_e",
            "delta_a_mu",
            "delta_a_tau",
            "d_e_ecm",
        )
        if k in obs
    }
    return {
        "generator": "djax.export.wcxf",
        "djax_version": str(getattr(djax, "__version__", "unknown")),
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "description": (
            "Charged-lepton dipole coefficients of the djax VLL + two-dark-scalar model at one loop, no RG running "
            "applied by djax. Cgamma_<a><b> = C^{ba} of L = C^{ji} (lbar_j sigma^{mu nu} P_R l_i) F_{mu nu} + h.c. "
            "(GeV^-1); C7_ll = 4 sqrt(2) pi^2/(G_F e m_l) C^{ll} with the inputs below. "
            f"Labelled {eft} at {scale:g} GeV: flavio's BR(mu->egamma) (WET-4 at 1.0 GeV) reads them without "
            "running when eft = WET-4 and scale = 1.0; tau decays need scale = 1.8."
        ),
        "parameters": point,
        "djax_predictions": predictions,
        "inputs": {
            "G_F_GeV-2": C.G_F,
            "alpha_em_0": C.ALPHA_EM,
            "m_e_GeV": C.M_E,
            "m_mu_GeV": C.M_MU,
            "m_tau_GeV": C.M_TAU,
            "tau_mu_s": C.TAU_MU,
            "tau_tau_s": C.TAU_TAU,
            "hbar_GeV_s": C.HBAR_GEV_S,
        },
    }


def _write(d: dict, path, fmt: str | None):
    path = os.fspath(path)
    if fmt is None:
        fmt = "yaml" if path.lower().endswith((".yaml", ".yml")) else "json"
    fmt = fmt.lower()
    if fmt == "json":
        text = json.dumps(d, indent=2) + "\n"
    elif fmt in ("yaml", "yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - pyyaml comes with the peers extra (wilson)
            raise ImportError(
                "djax.export.wcxf: writing YAML needs PyYAML (pip install pyyaml); use a .json path instead"
            ) from None
        text = yaml.safe_dump(d, sort_keys=False, default_flow_style=False)
    else:
        raise ValueError(f"wcxf: fmt must be 'json' or 'yaml', got {fmt!r}")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _validate(d: dict) -> None:
    try:
        from wilson import wcxf as _wcxf
    except ImportError:  # wilson is optional (peers extra): the names are checked against our own tables
        return
    wc = _wcxf.WC(eft=d["eft"], basis=d["basis"], scale=d["scale"], values=d["values"])
    wc.validate()


def wcxf(
    params,
    *,
    scale: float | None = None,
    eft: str | None = None,
    path=None,
    fmt: str | None = None,
    diagonal: bool = True,
    metadata: bool = True,
    validate: bool = True,
) -> dict:
    """WCxf dict of the dipole coefficients of one parameter point (and the file, when ``path`` is given).

    Args:
      params: one (unbatched) :class:`djax.Params`.
      scale: the scale (GeV) the coefficients are labelled with; default 1.0 GeV = flavio's ``mudecays`` scale,
        at which flavio's ``BR(mu->egamma)`` applies no running (use 1.8 for flavio's tau decays).
      eft: ``"WET-4"`` (default below 4.2 GeV), ``"WET"`` (default from 4.2 GeV up to the EW scale) or
        ``"WET-3"`` (no tau; flavio's g-2 scale). The basis is always ``"flavio"``.
      path: write the file there (``.yaml``/``.yml`` -> YAML, anything else JSON, or ``fmt``); it loads with
        ``wilson.Wilson.load_wc(open(path))``.
      diagonal: include ``C7_ee``, ``C7_mumu`` (``C7_tautau``): g-2 and EDMs.
      metadata: add a ``metadata`` block (djax version, the parameter point, the djax predictions, the inputs).
      validate: check the keys against the installed WCxf basis files when ``wilson`` is importable.

    Returns the WCxf dict ``{"eft", "basis", "scale", "values"[, "metadata"]}`` (plain JSON data; complex values
    as ``{"Re", "Im"}``).
    """
    import djax

    djax.enable_x64()
    if not isinstance(params, djax.Params):
        raise TypeError(f"wcxf: expected djax.Params, got {type(params).__name__}")
    if np.ndim(np.asarray(params.M_F)) != 0:
        raise ValueError(
            f"wcxf: exports one parameter point; got batch shape {np.shape(params.M_F)} (index the batch first)"
        )
    djax.check_params(params)
    scale = DEFAULT_SCALE if scale is None else float(scale)
    if not (math.isfinite(scale) and 0.0 < scale <= EW_SCALE):
        raise ValueError(f"wcxf: scale must lie in (0, {EW_SCALE}] GeV (the weak effective theory), got {scale!r}")
    eft = _default_eft(scale) if eft is None else eft
    if eft not in _EFTS:
        raise ValueError(f"wcxf: eft must be one of {_EFTS}, got {eft!r}")
    if eft == "WET" and scale < MB_MATCHING_SCALE:
        raise ValueError(f"wcxf: eft='WET' (five quark flavours) needs scale >= {MB_MATCHING_SCALE} GeV, got {scale}")
    if eft in ("WET-4", "WET-3") and scale >= MB_MATCHING_SCALE:
        raise ValueError(f"wcxf: eft={eft!r} needs scale < {MB_MATCHING_SCALE} GeV, got {scale}; use eft='WET'")
    if eft == "WET-3" and scale >= MC_MATCHING_SCALE:
        raise ValueError(f"wcxf: eft='WET-3' needs scale < {MC_MATCHING_SCALE} GeV, got {scale}")
    obs = djax.observables(params, solar=False)
    values = wcxf_values(np.asarray(obs["dipole_C_GeV"]), eft=eft, diagonal=diagonal)
    d: dict[str, Any] = {"eft": eft, "basis": "flavio", "scale": scale, "values": values}
    if metadata:
        d["metadata"] = _metadata(params, obs, eft, scale)
    if validate:
        _validate(d)
    if path is not None:
        _write(d, path, fmt)
    return d


__all__ = [
    "wcxf",
    "wcxf_values",
    "dipole_matrix_from_wcxf",
    "FLAVIO_SCALES",
    "DEFAULT_SCALE",
    "OFFDIAGONAL_KEYS",
    "DIAGONAL_KEYS",
    "SECTORS",
]
