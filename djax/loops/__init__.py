r"""One-loop Feynman-parameter functions for fermion-scalar dipoles (docs/physics.md section 2).

With ``r = M_F^2 / m_S^2`` (``M_F`` the fermion, ``m_S`` the scalar in the loop)::

    I_F(r) = ∫_0^1 x^2        / (1 - x + r x) dx = [r^2 - 4 r + 3 + 2 ln r] / (2 (r - 1)^3)   I_F(1) = 1/3
    I_S(r) = ∫_0^1 x (1 - x)  / (1 - x + r x) dx = [r^2 - 1 - 2 r ln r]    / (2 (r - 1)^3)   I_S(1) = 1/6
    K(r)   = I_F + I_S = ∫_0^1 x / (1 - x + r x) dx = [r - 1 - ln r] / (r - 1)^2            K(1)   = 1/2
    L_F(r) = ∫_0^1 x^2 (1 - x) / (1 - x + r x) dx                                            L_F(1) = 1/12
    L_S(r) = ∫_0^1 x (1 - x)^2 / (1 - x + r x) dx                                            L_S(1) = 1/12
    G(M, m) = m^2 ln(m^2/M^2) / (m^2 - M^2) = ln r / (r - 1) = ∫_0^1 dx / (1 - x + r x),  r = M^2/m^2
    J(n, a) = ∫_0^1 x^n / (1 + a x) dx,  a = r - 1   (I_F = J_2, K = J_1, I_S = J_1 - J_2,
                                                    L_F = J_2 - J_3, L_S = J_1 - 2 J_2 + J_3)

``I_F, I_S`` multiply the chirally enhanced dipole (photon from the fermion / from the scalar), ``L_F, L_S``
the non-enhanced one; ``L_S`` is Leveille's charged-scalar integral ``∫ x^2 (1-x) / (x + r (1-x)) dx`` after
``x -> 1 - x``. Relations: ``I_S(r) = I_S(1/r)/r``, ``L_S(r) = L_F(1/r)/r``. Limits: ``r -> 0``:
``I_F ~ -ln r - 3/2``, ``K ~ -ln r - 1``, ``I_S -> 1/2``, ``L_F -> 1/3``, ``L_S -> 1/6``; ``r -> ∞``:
``r I_F, r I_S -> 1/2``, ``r K -> 1``, ``r L_F -> 1/6``, ``r L_S -> 1/3``. Each enters divided by ``m_S^2``:
``scaled(f, M, m) = f(M^2/m^2) / m^2``, and the GIM-like sums over scalars need
``gim_difference(f, M, m1, m2) = f(M^2/m1^2)/m1^2 - f(M^2/m2^2)/m2^2`` and
``gim_difference_G(M, m1, m2) = G(M, m1) - G(M, m2)``, both evaluated without catastrophic cancellation
as ``m1 -> m2`` (exact divided differences; at ``m1 == m2`` the value is 0 and the gradient is the
derivative).

Passing ``f``: the function objects ``I_F, I_S, K, L_F, L_S`` or their names (``"I_F"``, ...). ``f`` is
Python-level (static): close over it inside a jitted function, or ``jax.jit(gim_difference,
static_argnums=0)``.

Numerics (all elementwise, any shape, broadcasting; dtype follows the input; details and proofs in
``djax/loops/_functions.py``): for ``1/16 < r < 16`` every function is ONE Chebyshev series in
``w = ln r`` (33-39 terms, unrolled Clenshaw recurrence, no loops and no table look-ups; coefficients
computed exactly at import; rigorous truncation bound <= 1e-19 of ``min|f|`` for values and <= 1e-16 for
second derivatives, see ``_functions.series_error_bounds()``), outside it the exact ``log1p`` closed form
at ``b = r - 1 >= 15`` or, after ``x -> 1 - x``, ``b = 1/r - 1 >= 15``; branches are joined with the
double-``where`` trick, so values and first/second derivatives are finite for ``r`` in ``[1e-8, 1e8]``
(and beyond), including exactly ``r = 1``. Derivatives come from ``jax.custom_jvp`` rules evaluated in
the primal pass (derivatives of the same polynomial, every order), the GIM differences have a custom JVP
at the level of the masses: reverse mode never runs through a loop and stores a few numbers per point
(value + gradient of the ``"paper"`` likelihood: ~2-2.5x the value). Accuracy against mpmath (quadrature
at dps 60; see ``tests/reference/make_loops_reference.py``), ``r`` in ``[1e-8, 1e8]`` incl.
``r = 1, 1 ± 1e-9, 1 ± 1e-6``:

* float64 values: max relative error 1.4e-15; first derivatives 5e-15; second derivatives 1.5e-14
  (``L_S``: 5e-10, from the closed form at ``r = 1e-8``);
* ``gim_difference``/``gim_difference_G``, ``m1 = m2 (1 + δ)``, ``δ`` in ``±1e-12 ... 1``,
  ``M/m`` in ``1e-4 ... 1e4``: max relative error (vs. the exact difference) 5e-14; at ``m1 == m2`` the
  value is exactly 0 and ``d/dm1`` equals the derivative to ~1e-15 (``m1, m2``-gradients everywhere
  <= 5e-15). (The ``M``-gradient in the ``|m1 - m2| <= 1e-2 m`` branch at ``M << m`` loses accuracy
  through a cancellation in the chain rule: ~1e-11 relative at ``M/m = 1e-3``, ~1e-8 at
  ``M/m = 1e-4``, < 1e-13 for ``M/m >= 1e-2``; values and ``m1, m2``-gradients are not affected.)
* float32 inputs (even with x64 enabled, the computation stays in float32, with shorter series):
  values of ``I_F, I_S, K, L_F, L_S, G`` to better than 5e-6 relative over ``r`` in ``[1e-8, 1e8]``
  (measured 1.6e-6; tested), derivatives finite.

Unlike the other djax core layers these functions do not insist on x64: they are accurate in float32
too (documented above); all of djax's own callers pass float64.

References: L. Lavoura, Eur. Phys. J. C 29 (2003) 191 [hep-ph/0302221] (general one-loop dipole
formulae); J. P. Leveille, Nucl. Phys. B 137 (1978) 63 (g-2 Feynman-parameter integrals).
"""

from ._functions import (
    I_F,
    I_S,
    L_F,
    L_S,
    G,
    J,
    K,
    LoopFunction,
    gim_difference,
    gim_difference_G,
    scaled,
)

LOOP_FUNCTIONS = ("I_F", "I_S", "K", "L_F", "L_S")
"""Names accepted by :func:`scaled` and :func:`gim_difference` (the function objects work as well)."""

__all__ = [
    "G",
    "I_F",
    "I_S",
    "J",
    "K",
    "LOOP_FUNCTIONS",
    "L_F",
    "L_S",
    "LoopFunction",
    "gim_difference",
    "gim_difference_G",
    "scaled",
]
