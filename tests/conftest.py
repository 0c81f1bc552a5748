"""Test configuration: strict float64 and reproducible hypothesis settings."""
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

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
