"""``profile``: time and XLA cost per point of each component of the "paper" ln L, compiled alone.

Components (each ``jax.jit`` of a batched function of N prior points, inputs precomputed on the device):

* ``loops``: the four loop-function values the ln L needs, ``I_F`` and ``I_S`` GIM differences and
  ``L_F(r_k)/m_k^2`` (k = 1, 2), from the masses;
* ``dipoles``: the 3x3 dipole matrix C^{ji} from the parameters (its loop functions included);
* ``moments``: the dark transition moment lambda^D from the parameters (its loop functions included);
* ``moments + solar``: the Borexino equivalent moment from the parameters; ``solar`` is the difference of this row
  and ``moments`` (the solar part is not public on its own);
* ``curves``: the kinetic-mixing curve terms (NA64 2023, BaBar 2017) from (epsilon, m_A');
* ``forms``: the scalar upper-limit forms from the observable values (BR, mu_equiv precomputed);
* ``observables (paper set)``: BR(mu -> e gamma) and mu_equiv(Borexino) from the parameters (target (a)'s set);
* ``ln L (paper)``: the whole joint ln L from the parameters; ``ln L + grad``: value and gradient.

Flops, transcendentals and bytes are XLA's ``cost_analysis()`` of the compiled component divided by N
(static counts of the optimised HLO: every ``select`` branch counted, the body of a ``while`` loop once, i.e.
"unrolled counts" only where the program has no loops; ``while_loops`` says how many it has). Times: median
over ``repeats`` of one call on N points (compilation excluded).
"""

from __future__ import annotations

import dataclasses
import re

from . import harness as H

QUICK_N = 10_000
FULL_N = 100_000


def _cost(compiled, n: int) -> dict:
    ca = compiled.cost_analysis()
    ca = ca[0] if isinstance(ca, (list, tuple)) else (ca or {})
    text = compiled.as_text()
    return {
        "flops_per_point": float(ca.get("flops", 0.0)) / n,
        "transcendentals_per_point": float(ca.get("transcendentals", 0.0)) / n,
        "bytes_per_point": float(ca.get("bytes accessed", 0.0)) / n,
        "while_loops": len(re.findall(r"\bwhile\(", text)),
        "fusions": len(re.findall(r"\bfusion\(", text[text.find("ENTRY") :])),
    }


def components(spec=None):
    """``{name: (function, input-builder)}``; every function takes one pytree of batched arrays."""
    import jax
    import jax.numpy as jnp

    from djax import loops, observables, resolve_terms
    from djax.likelihood import evaluate_log_likelihood, terms_loglike
    from djax.model import params_from_values
    from djax.observables import dark_transition_moment, dipole_coefficients

    spec = resolve_terms("paper") if spec is None else spec

    def P(v):
        return params_from_values(v)

    def f_loops(v):
        M, m1, m2 = v["M_F"], v["m_S1"], v["m_S2"]
        return (
            loops.gim_difference(loops.I_F, M, m1, m2),
            loops.gim_difference(loops.I_S, M, m1, m2),
            loops.scaled(loops.L_F, M, m1),
            loops.scaled(loops.L_F, M, m2),
        )

    def f_dipoles(v):
        return jax.vmap(lambda p: dipole_coefficients(p)["C"])(P(v))

    def f_moments(v):
        return jax.vmap(lambda p: dark_transition_moment(p)["total"])(P(v))

    def f_moments_solar(v):
        return observables(P(v), solar=True)["borexino_mu_equiv_muB"]

    curve_spec = dataclasses.replace(spec, scalar=None, observables=(), scalar_ids=())
    scalar_spec = dataclasses.replace(spec, curves=None, curve_ids=(), visible=None, visible_ids=())

    def f_curves(x):
        return jax.vmap(lambda e, m: terms_loglike({}, curve_spec, eps=e, m_aprime=m))(x["epsilon"], x["m_Aprime"])

    def f_forms(x):
        return jax.vmap(lambda o: terms_loglike(o, scalar_spec))(x)

    def f_obs(v):
        o = observables(P(v), solar=True)
        return o["br_mu_e_gamma"], o["borexino_mu_equiv_muB"]

    def f_ll(v):
        return evaluate_log_likelihood(P(v), spec)

    def f_vg(v):
        return jax.vmap(jax.value_and_grad(lambda w: evaluate_log_likelihood(P(w), spec)))(v)

    def form_inputs(v):
        o = jax.jit(f_obs)(v)
        return {"br_mu_e_gamma": o[0], "borexino_mu_equiv_muB": o[1]}

    del jnp
    same = lambda v: v  # noqa: E731
    return {
        "loops": (f_loops, same, "I_F, I_S GIM differences + 2 x L_F(r_k)/m_k^2 from (M_F, m_S1, m_S2)"),
        "dipoles": (f_dipoles, same, "3x3 dipole matrix C^{ji} from the parameters (loops included)"),
        "moments": (f_moments, same, "dark transition moment lambda^D from the parameters (loops included)"),
        "moments + solar": (f_moments_solar, same, "Borexino mu_equiv from the parameters"),
        "curves": (f_curves, same, "NA64 2023 + BaBar 2017 curve ln L from (epsilon, m_A')"),
        "forms": (f_forms, form_inputs, "MEG II + Borexino upper-limit forms from the observable values"),
        "observables (paper set)": (f_obs, same, "BR(mu->e gamma), mu_equiv(Borexino) from the parameters"),
        "ln L (paper)": (f_ll, same, "joint 'paper' ln L from the parameters"),
        "ln L + grad (paper)": (f_vg, same, "ln L and its gradient w.r.t. the 13 parameters"),
    }


def run(quick: bool = False, n: int | None = None, repeats: int | None = None, seed: int = 0, names=None) -> dict:
    """Run the suite; ``n``, ``repeats`` and ``names`` (a subset of components) override the defaults."""
    import jax
    import jax.numpy as jnp

    n = int(n or (QUICK_N if quick else FULL_N))
    repeats = int(repeats or (3 if quick else 7))
    comps = components()
    names = list(names or comps)
    u = jax.random.uniform(jax.random.PRNGKey(seed), (n, 13), dtype=jnp.float64)
    vals = jax.block_until_ready(jax.jit(H.unit_to_values)(u))
    rows = []
    for name in names:
        fn, make_inputs, what = comps[name]
        x = jax.block_until_ready(make_inputs(vals))
        f = jax.jit(fn)
        compiled = f.lower(x).compile()
        cost = _cost(compiled, n)
        t = H.time_call(lambda: jax.block_until_ready(compiled(x)), repeats)
        rows.append(
            {
                "component": name,
                "N": n,
                "repeats": t["repeats"],
                "ns_per_point": t["median_s"] / n * 1e9,
                "best_ns_per_point": t["min_s"] / n * 1e9,
                **cost,
                "what": what,
            }
        )
    by = {r["component"]: r for r in rows}
    if "moments" in by and "moments + solar" in by:
        a, b = by["moments + solar"], by["moments"]
        diff = {
            k: a[k] - b[k]
            for k in (
                "ns_per_point",
                "best_ns_per_point",
                "flops_per_point",
                "transcendentals_per_point",
                "bytes_per_point",
            )
        }
        solar = {"component": "solar", "N": n, "repeats": a["repeats"], **diff}
        solar.update({"fusions": "", "while_loops": "", "what": "difference of 'moments + solar' and 'moments'"})
        rows.insert(rows.index(a) + 1, solar)
    cols = [
        "component",
        "N",
        "repeats",
        "ns_per_point",
        "best_ns_per_point",
        "flops_per_point",
        "transcendentals_per_point",
        "bytes_per_point",
        "fusions",
        "while_loops",
        "what",
    ]
    notes = [
        "Each component is compiled alone (jax.jit of the batched function), so shared sub-expressions "
        "(the I_F GIM difference of dipoles and moments) are counted in both; the sum of the rows is not the total.",
        "flops / transcendentals / bytes: XLA cost_analysis() of the optimised program divided by N (static "
        "counts; a while loop's body is counted once -- see while_loops).",
        "Times: median (and best) over repeats on a shared 2-core machine: compare rows of one run only.",
        "The 'solar' row is the difference of two separately compiled programs (XLA fuses them differently), so "
        "its bytes and times are rough and can come out negative on a loaded machine; its flops are reliable.",
    ]
    return {
        "suite": "profile",
        "figures": rows,
        "markdown": H.markdown_table(rows, cols),
        "notes": notes,
        "settings": {"n": n, "repeats": repeats, "seed": seed, "components": names},
    }
