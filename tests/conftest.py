"""Test configuration: float64, strict dtype promotion, reproducible hypothesis settings, x64 reset per test."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "standard")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "djax",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("DJAX_HYPOTHESIS_PROFILE", "djax"))


@pytest.fixture(autouse=True)
def _x64_per_test(request):
    """Every test starts with x64 on, whatever the previous one did. Tests marked ``strict_dtypes`` (the real-valued
    core: loops, likelihood forms and curves, parameters) run with strict dtype promotion: any implicit promotion
    between array dtypes is an error, so a float32 leak fails loudly. The complex-valued core (dipoles,
    observables) multiplies float64 by complex128 by design and runs with standard promotion."""
    jax.config.update("jax_enable_x64", True)
    if request.node.get_closest_marker("strict_dtypes"):
        with jax.numpy_dtype_promotion("strict"):
            yield
    else:
        yield
    jax.config.update("jax_enable_x64", True)
