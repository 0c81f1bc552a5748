"""Explicit float64 switch (entry points call it; importing djax never flips it)."""

from __future__ import annotations

import jax


def enable_x64() -> None:
    """Turn on 64-bit floats in JAX. Call once at the top of a script or notebook."""
    jax.config.update("jax_enable_x64", True)


def x64_enabled() -> bool:
    """True when JAX runs with 64-bit floats (``jax_enable_x64``)."""
    return bool(jax.config.read("jax_enable_x64"))


def require_x64(where: str) -> None:
    """Raise a clear error if float64 is off (djax's default path is float64 only)."""
    if not x64_enabled():
        raise RuntimeError(
            f"{where}: djax needs 64-bit floats. Call `djax.enable_x64()` (or set "
            "JAX_ENABLE_X64=1) before using djax; float32 is only supported where documented."
        )


def complex_dtype(x):
    """The complex dtype matching the precision of ``x`` (complex stays as it is): complex128 for float64."""
    import jax.numpy as jnp

    dt = jnp.asarray(x).dtype
    if jnp.issubdtype(dt, jnp.complexfloating):
        return dt
    return jnp.complex64 if dt == jnp.float32 else jnp.complex128
