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
# # djax quick start
#
# The model's observables at the documented benchmark point, gradients of log BR(μ → eγ) and of the joint
# log-likelihood with respect to every parameter, a jitted and vectorised evaluation over many random points,
# and the errors `djax.check_params` gives for bad input.
#
# Set `DJAX_NOTEBOOK_SMALL=1` for the quick settings used by the tests (fewer random points).

# %%
import os
import time

import matplotlib

matplotlib.use("Agg")
import jax
import jax.numpy as jnp
import numpy as np

import djax

djax.enable_x64()  # djax is float64; entry points switch x64 on explicitly
SMALL = os.environ.get("DJAX_NOTEBOOK_SMALL") == "1"
N_RANDOM = 10_000 if SMALL else 100_000
print(f"djax {djax.__version__}, jax {jax.__version__}, devices {jax.devices()}, small settings: {SMALL}")

# %% [markdown]
# ## Observables at the benchmark point
#
# `djax.Params.default()`: M_F = 1 TeV, m_S1 = 400 GeV, m_S2 = 700 GeV, θ = π/4, y = (4, 8, 0)·10⁻⁴,
# y' = (8, -4, 0)·10⁻⁴, g_D = 0.3, m_A' = 50 MeV, ε = 10⁻⁵. `djax.observables` returns a dict of arrays; the
# scalar ones are listed in `djax.SCALAR_OBSERVABLES`, the rest are matrices (dipole coefficients, λ^D, m_ν).

# %%
p = djax.Params.default()
djax.check_params(p)
obs = djax.observables(p)
print(f"{'observable':28s} {'value':>14s}")
for name in djax.SCALAR_OBSERVABLES + ("borexino_mu_equiv_muB", "xenonnt_mu_equiv_muB"):
    print(f"{name:28s} {float(np.real(obs[name])):14.5e}")
print(
    "lambda_dark_muB (3x3, antisymmetric):\n", np.array2string(np.abs(np.asarray(obs["lambda_dark_muB"])), precision=3)
)

# %% [markdown]
# The likelihood terms of the reference study's preset ("paper") and of the "full" preset, per term (ln L).
# The benchmark point is not natural: its radiative Σm_ν is far above the Planck bound, which the "full"
# preset's naturalness term punishes.

# %%
for preset in ("paper", "full"):
    terms = djax.likelihood_terms(p, preset)
    print(f"preset {preset!r}: joint ln L = {float(djax.log_likelihood(p, preset)):.6g}")
    for tid, v in terms.items():
        print(f"    {tid:18s} {float(v):14.6g}")

# %% [markdown]
# ## Gradients with respect to every parameter
#
# `Params` is a pytree, so `jax.grad` returns a `Params` of derivatives. Here d log BR(μ → eγ) / d field
# and d ln L / d field for the "paper" preset. The Yukawa vectors get one entry per flavour (y_τ, y'_τ are
# zero at the benchmark point, but their gradients need not be).


# %%
def log_br(q):
    return jnp.log(djax.observables(q)["br_mu_e_gamma"])


g_br = jax.jit(jax.grad(log_br))(p)
g_ll = jax.jit(jax.grad(lambda q: djax.log_likelihood(q, "paper")))(p)
print(f"{'field':10s} {'d log BR/d field':>40s} {'d lnL(paper)/d field':>40s}")
for field in ("M_F", "m_S1", "m_S2", "theta", "y", "yp", "g_D", "m_Aprime", "epsilon", "Q_F"):
    a = np.atleast_1d(np.asarray(getattr(g_br, field)))
    b = np.atleast_1d(np.asarray(getattr(g_ll, field)))
    fa = " ".join(f"{x:+.3e}" for x in a)
    fb = " ".join(f"{x:+.3e}" for x in b)
    print(f"{field:10s} {fa:>40s} {fb:>40s}")
leaves = jax.tree.leaves(g_br) + jax.tree.leaves(g_ll)
print("all gradients finite:", all(bool(jnp.all(jnp.isfinite(x))) for x in leaves))

# %% [markdown]
# A check of the gradient against a central finite difference, for M_F: BR ∝ |C|² and the dipole scales
# roughly like 1/M_F² at large M_F, so d log BR / d log M_F should be O(-4).

# %%
h = 1e-4
fd = (log_br(p.replace(M_F=p.M_F * (1 + h))) - log_br(p.replace(M_F=p.M_F * (1 - h)))) / (2 * h)
print(f"d log BR / d log M_F: autodiff {float(g_br.M_F * p.M_F):.8f}, finite difference {float(fd):.8f}")

# %% [markdown]
# ## jit + vmap over random points
#
# Stack random points along a leading axis (every leaf gets it) and `jax.vmap` the one-point function. Masses
# and ε are drawn log-uniformly over the default prior box, Yukawas log-uniformly in magnitude with random sign.

# %%
key = jax.random.PRNGKey(0)
ks = jax.random.split(key, 12)


def loguni(k, lo, hi, n):
    return jnp.exp(jax.random.uniform(k, (n,), minval=np.log(lo), maxval=np.log(hi)))


def yuk(k, n):
    k1, k2 = jax.random.split(k)
    return loguni(k1, 1e-6, 1.0, 3 * n).reshape(n, 3) * jnp.sign(jax.random.uniform(k2, (n, 3)) - 0.5)


n = N_RANDOM
batch = djax.Params(
    M_F=loguni(ks[0], 100.0, 1e4, n),
    m_S1=loguni(ks[1], 10.0, 1e4, n),
    m_S2=loguni(ks[2], 10.0, 1e4, n),
    theta=jax.random.uniform(ks[3], (n,), maxval=np.pi / 2),
    y=yuk(ks[4], n),
    yp=yuk(ks[5], n),
    g_D=jax.random.uniform(ks[6], (n,), maxval=np.sqrt(4 * np.pi)),
    m_Aprime=loguni(ks[7], 1e-3, 8.0, n),
    epsilon=loguni(ks[8], 1e-7, 1e-2, n),
    Q_F=jnp.ones(n),
)
djax.check_params(batch)  # works on batches too


@jax.jit
@jax.vmap
def point(q):
    o = djax.observables(q)
    return o["br_mu_e_gamma"], o["borexino_mu_equiv_muB"], djax.log_likelihood(q, "paper")


t0 = time.perf_counter()
br, mu_bx, ll = jax.block_until_ready(point(batch))
t1 = time.perf_counter()
br, mu_bx, ll = jax.block_until_ready(point(batch))
t2 = time.perf_counter()
print(
    f"{n} points: first call (compile + run) {t1 - t0:.2f} s, second call {t2 - t1:.3f} s "
    f"({n / (t2 - t1):.3g} points/s)"
)
print(
    f"finite: BR {bool(np.all(np.isfinite(br)))}, mu_equiv {bool(np.all(np.isfinite(mu_bx)))}, "
    f"lnL {bool(np.all(np.isfinite(ll)))}"
)
print(f"fraction with BR(mu->e gamma) < 1.5e-13: {float(np.mean(br < 1.5e-13)):.4f}")
print(f"median Borexino-equivalent moment: {float(np.median(mu_bx)):.3e} mu_B")

# %% [markdown]
# ## Input validation
#
# `djax.check_params` works on concrete values (outside `jit`) and names the offending field.

# %%
bad_inputs = {
    "negative mass": {"m_S1": -5.0},
    "non-perturbative Yukawa": {"y": jnp.array([4.0, 0.0, 0.0])},
    "epsilon >= 1": {"epsilon": 1.5},
    "NaN coupling": {"g_D": float("nan")},
    "wrong Yukawa shape": {"yp": jnp.array([1e-3, 1e-3])},
}
for what, change in bad_inputs.items():
    q = p.replace(**{k: jnp.asarray(v) for k, v in change.items()})
    try:
        djax.check_params(q)
        print(f"{what:26s} -> accepted (unexpected)")
    except ValueError as exc:
        print(f"{what:26s} -> ValueError: {exc}")
