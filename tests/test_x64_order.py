"""x64 switched on *after* importing djax (the CLI's and notebooks' order) must give float64 results."""

import subprocess
import sys
import textwrap


def test_enable_x64_after_import_gives_float64_everywhere():
    code = textwrap.dedent("""
        import os
        os.environ["JAX_PLATFORMS"] = "cpu"
        import jax
        jax.config.update("jax_enable_x64", False)
        import djax                                  # import first, enable afterwards
        import djax.observables._leptonic, djax.observables._solar_link, djax.inference
        djax.enable_x64()
        from tests.reference.model_reference import reference
        import mpmath as mp
        p = djax.Params.default()
        obs = djax.observables(p)
        ref = reference(1000, 400, 700, mp.pi / 4, [4e-4, 8e-4, 0], [8e-4, -4e-4, 0], 0.3)
        for k, v in obs.items():
            assert v.dtype in ("float64", "complex128", "bool"), (k, v.dtype)
        rel = abs(float(obs["br_mu_e_gamma"]) - float(ref["br_mu_e_gamma"])) / float(ref["br_mu_e_gamma"])
        assert rel < 1e-12, rel
        rel = abs(float(obs["delta_a_mu"]) - float(ref["delta_a"][1])) / abs(float(ref["delta_a"][1]))
        assert rel < 1e-12, rel
        print("OK")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]
