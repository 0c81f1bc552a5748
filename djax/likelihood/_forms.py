"""Pure likelihood-term forms for published limits and measurements (docs/physics.md, likelihood forms).

Every form returns ln L (float64), normalised so that ln L = 0 at zero signal (upper limits and
counting) or at the central value (Gaussian): only differences of ln L matter. ``x`` is the
*signal-yield proxy*, i.e. a quantity proportional to the expected number of signal events:

    x = BR                          for a branching-ratio limit            (power 1)
    x = BR_inv * eps^2              for a kinetic-mixing limit              (power 2)
    x = mu_nu^2                     for a magnetic-moment limit (rate ~ mu^2, power 2)
    x = |d_e|                       for an EDM limit (a Gaussian measurement around 0, power 1)

so a limit X < X_90 on the quantity itself becomes x/x_90 = (X/X_90)^power, see :func:`yield_ratio`.

Values at the CL point (x = x_90):

    poisson_zero_count:  ln L = ln(1 - cl)               = -2.3026 at 90 %, -2.9957 at 95 %
    half_gaussian:       ln L = -(1/2) Phi^-1((1+cl)/2)^2 = -1.3528 at 90 %, -1.9207 at 95 %
    lower_limit,
    log_upper_limit:     the same -(1/2) Phi^-1((1+cl)/2)^2 (smooth one-sided limits in ln x, :func:`soft_log_limit`)

In a likelihood (:func:`upper_limit_loglike`, used by every upper-limit term, curve and visible search) the
Poisson and half-Gaussian forms turn logarithmic in x below ln L = ``TAIL_LNL`` = -25, far beyond the CL point.

All functions are jit/vmap/grad safe, with finite gradients at and around zero signal.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri

__all__ = [
    "POISSON_ZERO_COUNT",
    "HALF_GAUSSIAN",
    "GAUSSIAN",
    "COUNTING",
    "CURVE",
    "LOWER_LIMIT",
    "LOG_UPPER_LIMIT",
    "FORM_NAMES",
    "FORM_CODES",
    "UPPER_LIMIT_SHAPES",
    "poisson_zero_count",
    "half_gaussian",
    "half_gaussian_sigma",
    "gaussian",
    "counting",
    "soft_log_limit",
    "yield_ratio",
    "upper_limit_loglike",
    "TAIL_LNL",
    "ScalarTerms",
    "scalar_terms_loglike",
]

#: Integer codes of the term forms (used in the array pytrees handed to jitted code).
POISSON_ZERO_COUNT = 0
HALF_GAUSSIAN = 1
GAUSSIAN = 2
COUNTING = 3
CURVE = 4
LOWER_LIMIT = 5
LOG_UPPER_LIMIT = 6
#: Form names, indexed by code; the registry's ``form`` field takes these names.
FORM_NAMES = ("poisson_zero_count", "half_gaussian", "gaussian", "counting", "curve", "lower_limit", "log_upper_limit")
FORM_CODES = {name: code for code, name in enumerate(FORM_NAMES)}
#: Forms usable as the shape of an upper limit (scalar limits and curves).
UPPER_LIMIT_SHAPES = ("poisson_zero_count", "half_gaussian")


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def poisson_zero_count(x, x90, cl=0.9):
    """Poisson likelihood with zero observed events and no background.

        ln L = ln(1 - cl) * x / x_90        (= -2.303 x/x_90 at cl = 0.9)

    The signal expectation s = ln(1/(1-cl)) x/x_90 is the Poisson mean excluded at ``cl`` when x = x_90,
    so the form reproduces the published limit exactly. Linear in x (monotonically decreasing).

    Args:
      x: signal-yield proxy (>= 0).  x90: its value at the published limit (> 0).
      cl: confidence level as a fraction in (0, 1).
    """
    return jnp.log1p(-_f(cl)) * _f(x) / _f(x90)


def half_gaussian_sigma(x90, cl=0.9):
    """sigma of the half-normal whose ``cl`` quantile is ``x90``: sigma = x_90 / Phi^-1((1+cl)/2)."""
    return _f(x90) / ndtri(0.5 * (1.0 + _f(cl)))


def half_gaussian(x, x90, cl=0.9):
    """Half-Gaussian upper limit (flavio's ``GaussianUpperLimit``).

        ln L = -(1/2) (x / sigma)^2,   sigma = x_90 / Phi^-1((1+cl)/2)   (1.645 at cl = 0.9)

    At x = x_90, ln L = -1.353 (90 % CL). Decreasing for x >= 0, zero gradient at x = 0.
    """
    return -0.5 * jnp.square(_f(x) / half_gaussian_sigma(x90, cl))


def gaussian(x, mean, sigma):
    """Gaussian measurement, ln L = -(1/2) ((x - mean) / sigma)^2 (normalisation constant dropped).

    Used for Delta a_mu and Delta a_e (mean = exp - SM, sigma = combined 1-sigma uncertainty).
    """
    return -0.5 * jnp.square((_f(x) - _f(mean)) / _f(sigma))


def counting(s, n_obs, b):
    """Poisson counting experiment with n_obs observed events over background b, signal s >= 0.

        ln L(s) = n ln(1 + s/b) - s          = [n ln(s+b) - (s+b)] - [n ln b - b]

    normalised so that ln L(0) = 0. With n_obs = 0 it reduces to -s for any b (b may be 0 then);
    n_obs > 0 needs b > 0 (the registry enforces it). d lnL/ds = n/(s+b) - 1 is finite at s = 0; the
    form decreases monotonically in s iff n_obs <= b.
    """
    s, n, b = _f(s), _f(n_obs), _f(b)
    b_safe = jnp.where(b > 0, b, 1.0)
    # s <= -b is outside the domain (negative expectation): the log term is frozen there (no NaN)
    ratio = jnp.where(s + b_safe > 0, s, 0.0) / b_safe
    return jnp.where(n > 0, n * jnp.log1p(ratio), 0.0) - s


def soft_log_limit(x, x_cl, cl, width, sign):
    """Smooth one-sided limit in ln x (lower limits: ``sign = -1``; upper limits in log: ``sign = +1``).

        t = sign ln(x / x_cl) / width,    ln L = -(1/2) [z_cl softplus(t) / ln 2]^2,   z_cl = Phi^-1((1+cl)/2)

    At x = x_cl, ln L = -z_cl^2/2 (the half-Gaussian CL value: -1.921 at 95 %); on the allowed side ln L -> 0 as
    exp(-2|t|) (a 1 % penalty at |t| ~ 2.5); on the excluded side it becomes a half-Gaussian in ln x of width
    width ln 2 / z_cl. ``width`` (> 0) is the edge width in ln x. x <= 0 is treated as x -> 0 (finite gradients).
    """
    x, x_cl, w, sgn = _f(x), _f(x_cl), _f(width), _f(sign)
    tiny = jnp.finfo(jnp.result_type(float)).tiny
    lx = jnp.log(jnp.where(x > tiny, x, tiny))
    t = sgn * (lx - jnp.log(x_cl)) / w
    z = ndtri(0.5 * (1.0 + _f(cl)))
    return -0.5 * jnp.square(z * jax.nn.softplus(t) / jnp.log(2.0))


def yield_ratio(value, limit, power=1.0):
    """Signal-yield ratio x/x_90 = (|value| / limit)^power.

    ``power`` maps the limited quantity to the signal yield: 1 for a BR (or an EDM), 2 for a kinetic
    mixing epsilon (yield ~ eps^2) or a magnetic moment (rate ~ mu^2). Gradient finite at value = 0
    (``power`` >= 1).
    """
    v, L, p = _f(value), _f(limit), _f(power)
    r = jnp.abs(v) / L
    pos = r > 0
    r_safe = jnp.where(pos, r, 1.0)
    # r^p via exp(p log r) on the safe branch; exact 0 at r = 0, derivative there is 0 for p > 1
    # and for p = 1 it is recovered by the linear branch below.
    rp = jnp.where(pos, jnp.exp(p * jnp.log(r_safe)), 0.0)
    return jnp.where(p == 1.0, r, rp)


#: ln L at which an upper-limit term's wall turns logarithmic in the yield (see :func:`upper_limit_loglike`).
TAIL_LNL = -25.0


def upper_limit_loglike(x, x90, cl, shape):
    """Upper-limit ln L with the shape chosen by an integer code (traceable), with a logarithmic far tail.

    ``shape`` = POISSON_ZERO_COUNT (ln L = a r, a = ln(1 - cl)) or HALF_GAUSSIAN (ln L = b r^2,
    b = -z_cl^2/2); any other code falls back to Poisson; r = x/x90. Beyond the yield r_t where the form reaches
    ``TAIL_LNL`` = -25 it continues as

        ln L = TAIL_LNL (1 + k ln(r / r_t)),   k = 1 (Poisson), 2 (half-Gaussian),

    with value and slope continuous at r_t (r_t = 10.9 for a 90 % Poisson limit, 4.30 for a 90 % half-Gaussian).
    The CL point (r = 1) and everything down to a posterior density e^-25 of the zero-signal value are unchanged;
    in the log coordinates of the priors (r ∝ exp(k' u)) the wall beyond is a plane instead of an exponential,
    which leapfrog integrates exactly, so an HMC trajectory that hits it does not diverge.
    """
    x, x90, cl = _f(x), _f(x90), _f(cl)
    is_h = jnp.asarray(shape) == HALF_GAUSSIAN
    r = x / x90
    a = jnp.log1p(-cl)
    z = ndtri(0.5 * (1.0 + cl))
    b = -0.5 * z * z
    k = jnp.where(is_h, 2.0, 1.0)
    r_t = jnp.where(is_h, jnp.sqrt(TAIL_LNL / b), TAIL_LNL / a)
    near = jnp.where(is_h, b * r * r, a * r)
    far = r > r_t
    r_far = jnp.where(far, r, r_t)
    tail = TAIL_LNL * (1.0 + k * jnp.log(r_far / r_t))
    return jnp.where(far, tail, near)


class ScalarTerms(NamedTuple):
    """Arrays (shape (S,)) describing S scalar terms; built by ``djax.io.compile_terms``.

    Attributes:
      form: int codes (POISSON_ZERO_COUNT, HALF_GAUSSIAN, GAUSSIAN, COUNTING, LOWER_LIMIT, LOG_UPPER_LIMIT).
      value: x_90 of the limited quantity (upper limits), mean (Gaussian), the single-event
        sensitivity (counting: the value of the quantity that gives one signal event), or the quantity at
        the CL point (lower_limit, log_upper_limit).
      sigma: Gaussian 1-sigma; edge width in ln x for lower_limit / log_upper_limit (1.0 filler otherwise).
      cl: confidence level fraction (0.9 filler for forms without one).
      power: yield power (see :func:`yield_ratio`).
      n_obs, background: counting-form inputs (0 and 1 fillers otherwise).
    """

    form: jax.Array
    value: jax.Array
    sigma: jax.Array
    cl: jax.Array
    power: jax.Array
    n_obs: jax.Array
    background: jax.Array


def scalar_terms_loglike(x, terms: ScalarTerms):
    """Per-term ln L (shape (S,)) for observable values ``x`` (shape (S,), aligned with the terms).

    upper limit:  ln L = form(yield_ratio(x, value, power), 1, cl)
    gaussian:     ln L = -(1/2) ((x - value)/sigma)^2
    counting:     ln L = counting(s = yield_ratio(x, value, power), n_obs, background)
    lower_limit:  ln L = soft_log_limit(yield_ratio(x, value, power), 1, cl, sigma, -1)
    log_upper_limit: the same with sign +1
    """
    x = _f(x)
    r = yield_ratio(x, terms.value, terms.power)
    lim = upper_limit_loglike(r, 1.0, terms.cl, terms.form)
    gau = gaussian(x, terms.value, terms.sigma)
    cnt = counting(r, terms.n_obs, terms.background)
    sign = jnp.where(terms.form == LOWER_LIMIT, -1.0, 1.0)
    soft = soft_log_limit(r, 1.0, terms.cl, terms.sigma, sign)
    is_soft = (terms.form == LOWER_LIMIT) | (terms.form == LOG_UPPER_LIMIT)
    return jnp.where(terms.form == GAUSSIAN, gau, jnp.where(terms.form == COUNTING, cnt, jnp.where(is_soft, soft, lim)))
