# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Custom and future limits
#
# Limits live in a registry (`djax/data/limits/registry.toml`): one `[limit.<id>]` table per likelihood term,
# with its observable, form, value or curve file, reference, version and status. You extend or override it from
# your own TOML file without editing the package. This notebook
#
# 1. writes a user registry with two new entries, a hypothetical BR(μ → eγ) < 5·10⁻¹⁴ and a user-supplied
#    ε(m_A') curve (a CSV in the same format as the packaged curves), and an override of an existing entry;
# 2. shows the packaged "future" preset;
# 3. measures the effect on the joint log-likelihood and on one point of the upper-bound profile.
#
# `DJAX_NOTEBOOK_SMALL=1`: short profile fit (4 starts); unset: 16 starts and the default fit length.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np

import djax

djax.enable_x64()
from djax.inference import profile_solver
from djax.io import CURVE_HEADER, load_registry
from djax.jobs import load_config, prepare

SMALL = os.environ.get("DJAX_NOTEBOOK_SMALL") == "1"
RUN_DIR = Path(tempfile.mkdtemp(prefix="djax_nb05_")) if SMALL else Path("notebook_runs") / "05_custom_limits"
RUN_DIR.mkdir(parents=True, exist_ok=True)
N_STARTS = 4 if SMALL else 16
FIT = dict(outer_iters=8, inner_steps=80) if SMALL else dict(outer_iters=25, inner_steps=200)
print(f"small settings: {SMALL}; files go to {RUN_DIR}")

# %% [markdown]
# ## A user curve file
#
# Same format as the packaged curves: `# key: value` provenance lines, the header `m_Aprime_GeV,epsilon_max`,
# then rows (GeV, dimensionless). Here a made-up "future" curve: a factor 3 below NA64 2023 over its mass range.

# %%
reg0 = load_registry()
na64 = reg0.curve("na64_2023")
curve_path = RUN_DIR / "my_future_eps_90cl.csv"
lines = [
    "# quantity: hypothetical future upper limit on the kinetic mixing epsilon vs dark-photon mass",
    "# original_result: none (illustration for the djax notebook 05): NA64 2023 divided by 3",
    "# confidence_level: 90% CL",
    "# units: m_Aprime_GeV in GeV; epsilon_max dimensionless",
    "# assumptions: BR(A' -> invisible) = 1",
    ",".join(CURVE_HEADER),
]
lines += [f"{m:.10g},{e / 3.0:.10g}" for m, e in zip(na64.m, na64.eps)]
curve_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
print(f"wrote {curve_path} ({len(na64.m)} rows); header line: {','.join(CURVE_HEADER)}")

# %% [markdown]
# ## A user registry file
#
# A new id must give every required key (`observable`, `form`, `status`, `kind`, `experiment`, and the form's
# own keys); an existing id is overridden key by key. Curve files are resolved relative to the TOML file.
# Here MEG II 2025 (`meg2_mueg`, 1.5·10⁻¹³) is overridden with a made-up 1.2·10⁻¹³.

# %%
user_toml = RUN_DIR / "my_limits.toml"
user_toml.write_text(
    f'''schema = 1
version = "notebook 05 illustration"

[limit.my_mueg_5e14]
observable = "br_mu_e_gamma"
form = "poisson_zero_count"
value = 5.0e-14
cl = 0.9
experiment = "hypothetical mu -> e gamma search"
status = "projection"
kind = "projection"
notes = "illustration only"

[limit.my_eps_curve]
observable = "epsilon"
form = "curve"
shape = "poisson_zero_count"
cl = 0.9
file = "{curve_path.name}"
experiment = "hypothetical NA64-like search (NA64 2023 / 3)"
status = "projection"
kind = "projection"

[limit.meg2_mueg]
value = 1.2e-13
notes = "overridden in notebook 05 (made-up value)"
''',
    encoding="utf-8",
)
reg = load_registry(user_toml)
for eid in ("my_mueg_5e14", "my_eps_curve", "meg2_mueg"):
    e = reg[eid]
    print(
        f"{eid:14s} observable={e.observable:14s} form={e.form:18s} value={e.value} status={e.status} "
        f"kind={e.kind} origin={Path(e.origin).name if e.origin else ''}"
    )
print(f"packaged meg2_mueg value: {reg0['meg2_mueg'].value}, after the override: {reg['meg2_mueg'].value}")

# %% [markdown]
# The same from Python, without a file: `Registry.with_overrides` returns a new registry.

# %%
reg_py = reg0.with_overrides({"meg2_mueg": {"value": 1.2e-13}})
print(
    "with_overrides: meg2_mueg value",
    reg_py["meg2_mueg"].value,
    "(packaged registry unchanged:",
    reg0["meg2_mueg"].value,
    ")",
)
spec_py = djax.io.compile_terms(reg_py, ["meg2_mueg", "na64_2023", "babar2017", "borexino_mueff"])
print("compiled term ids:", spec_py.ids)

# %% [markdown]
# ## The packaged "future" preset
#
# "full" with projections swapped in (MEG II final, Mu3e phase I, Belle II τ → μγ, Mu2e run I) plus the
# NA64μ projection.

# %%
for preset in ("paper", "full", "future"):
    ids = djax.resolve_terms(preset).ids
    print(f"{preset:7s} ({len(ids)} terms): {', '.join(ids)}")
print(
    "future-only entries:",
    [(i, reg0[i].value) for i in djax.resolve_terms("future").ids if reg0[i].kind == "projection"],
)

# %% [markdown]
# ## Effect on the joint log-likelihood
#
# At the benchmark point (BR(μ → eγ) = 1.13·10⁻¹³, ε = 10⁻⁵ at m_A' = 50 MeV) with the "paper" preset, then the
# user registry (overridden MEG II) plus the two new terms (`include`), and the "future" preset.

# %%
p = djax.Params.default()
spec_user = djax.resolve_terms("paper", registry=user_toml, include=("my_mueg_5e14", "my_eps_curve"))
print("LOG-LIKELIHOOD TABLE (benchmark point)")
for label, spec in (
    ("paper (packaged)", djax.resolve_terms("paper")),
    ("paper + user registry", spec_user),
    ("future", djax.resolve_terms("future")),
):
    terms = djax.likelihood_terms(p, spec)
    print(
        f"{label:22s} joint ln L = {float(djax.log_likelihood(p, spec)):12.5g}   "
        + ", ".join(f"{k}={float(v):.4g}" for k, v in terms.items())
    )
obs = djax.observables(p)
print(
    f"BR(mu->e gamma) = {float(obs['br_mu_e_gamma']):.4g}: Poisson zero-count ln L = -2.303 BR/BR_90 "
    f"-> {-np.log(10) * float(obs['br_mu_e_gamma']) / 5e-14:.4g} for BR_90 = 5e-14"
)

# %% [markdown]
# ## Effect on one point of the upper-bound profile
#
# The largest Borexino-equivalent moment at m_A' = 20 MeV allowed by the indirect terms, with the packaged
# "paper" preset and with the user registry (the run file's `[likelihood] registry` and `include` keys, set
# here as dotted overrides of the embedded default run file, like `djax optimize --set key=value`).

# %%
common = {"run.output_dir": (RUN_DIR / "runs").as_posix(), "optimize.n_starts": N_STARTS, "output.plots": False}
configs = {  # the embedded default run file (e-mu family, y_tau = y'_tau = 0), with and without the user limits
    "paper (packaged)": load_config(None, common),
    "paper + user limits": load_config(
        None,
        {**common, "likelihood.registry": user_toml.as_posix(), "likelihood.include": ["my_mueg_5e14", "my_eps_curve"]},
    ),
}
print("PROFILE POINT TABLE (m_Aprime = 0.02 GeV)")
res = {}
for label, cfg in configs.items():
    prep = prepare(cfg, "optimize")  # the registry, terms and priors `djax optimize` would use
    solver = profile_solver(
        prep.spec,
        prep.priors,
        parameter="m_Aprime",
        cl=cfg.optimize.cl,
        n_starts=N_STARTS,
        seed=cfg.run.seed,
        Q_F=cfg.model.Q_F,
        br_inv=cfg.model.br_invisible,
        **FIT,
    )
    row = solver.solve(0.02)  # one grid value of the profile
    res[label] = row
    for exp in ("borexino", "xenonnt"):
        v = row[exp] if row[f"feasible_{exp}"] else float("nan")
        print(f"{label:20s} {exp:9s} max mu_equiv = {v:.4e} mu_B   constraints: {list(solver.indirect_terms)}")
a, b = res["paper (packaged)"]["borexino"], res["paper + user limits"]["borexino"]
if np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0:
    print(
        f"the user limits lower the reachable Borexino-equivalent moment by a factor {a / b:.3g} "
        f"(expected about sqrt(1.5e-13/5e-14) x 3 = {np.sqrt(1.5e-13 / 5e-14) * 3:.3g} if MEG and NA64 both bind)"
    )
