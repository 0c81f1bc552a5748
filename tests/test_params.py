"""Params pytree behaviour and check_params: every failure mode names the offending field."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import djax
from djax import Params, check_params

pytestmark = pytest.mark.strict_dtypes


def _default(**kw):
    return Params.default().replace(**{k: jnp.asarray(v) for k, v in kw.items()})


def test_default_is_valid_and_documented():
    p = check_params(Params.default())
    assert float(p.M_F) == 1000.0
    assert Params.default.__doc__ and "benchmark" in Params.default.__doc__


def test_pytree_roundtrip_and_vmap():
    p = Params.default()
    leaves, tree = jax.tree_util.tree_flatten(p)
    assert len(leaves) == 10
    q = jax.tree_util.tree_unflatten(tree, leaves)
    assert float(q.m_S2) == float(p.m_S2)
    stacked = jax.tree.map(lambda *x: jnp.stack(x), p, p.replace(M_F=jnp.asarray(2000.0)))
    out = jax.vmap(lambda q: q.M_F * q.y.sum())(stacked)
    assert out.shape == (2,)
    check_params(stacked)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("M_F", float("nan"), "Params.M_F: contains NaN or inf"),
        ("m_S1", float("inf"), "Params.m_S1: contains NaN or inf"),
        ("theta", float("nan"), "Params.theta: contains NaN or inf"),
        ("epsilon", float("nan"), "Params.epsilon: contains NaN or inf"),
        ("M_F", -5.0, "Params.M_F: masses must be positive"),
        ("m_S1", 0.0, "Params.m_S1: masses must be positive"),
        ("m_S2", -1.0, "Params.m_S2: masses must be positive"),
        ("m_Aprime", 0.0, "Params.m_Aprime: masses must be positive"),
        ("g_D", 4.0, "Params.g_D: 4 exceeds the perturbativity bound"),
        ("g_D", -0.1, "Params.g_D: must be >= 0"),
        ("y", [0.1, 3.6, 0.0], "Params.y: |y| = 3.6 exceeds the perturbativity bound"),
        ("yp", [0.0, 0.0, -4.0], "Params.yp: |yp| = 4 exceeds the perturbativity bound"),
        ("y", [0.1, 0.2], "Params.y: expected shape (3,)"),
        ("yp", [[0.1, 0.2, 0.3]], "Params.yp: expected shape (3,)"),
        ("y", [0.1, float("nan"), 0.0], "Params.y: contains NaN or inf"),
        ("yp", [0.1, complex(0.0, float("inf")), 0.0], "Params.yp: contains NaN or inf"),
        ("epsilon", -1e-5, "Params.epsilon: kinetic mixing must satisfy 0 <= epsilon < 1"),
        ("epsilon", 1.5, "Params.epsilon: kinetic mixing must satisfy 0 <= epsilon < 1"),
        ("M_F", [1.0, 2.0], "Params.m_S1: shape () does not match the batch shape (2,) of M_F"),
        ("theta", 1.0 + 0.5j, "Params.theta: must be real"),
    ],
)
def test_check_params_names_field(field, value, message):
    p = _default(**{field: value})
    with pytest.raises(ValueError) as err:
        check_params(p)
    assert message in str(err.value)


def test_check_params_rejects_strings_and_tracers():
    p = Params.default().replace(M_F="heavy")
    with pytest.raises(ValueError, match="Params.M_F"):
        check_params(p)
    with pytest.raises(TypeError, match="outside jit"):
        jax.jit(lambda q: check_params(q).M_F)(Params.default())
    with pytest.raises(TypeError, match="djax.Params"):
        check_params({"M_F": 1.0})


def test_from_dict_unknown_and_missing():
    d = Params.default().to_dict()
    d["m_S3"] = 1.0
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['m_S3'\]"):
        Params.from_dict(d)
    d = Params.default().to_dict()
    del d["g_D"]
    with pytest.raises(ValueError, match=r"missing field\(s\) \['g_D'\]"):
        Params.from_dict(d)
    with pytest.raises(ValueError, match="unknown field"):
        Params.default().replace(mass=1.0)


def test_perturbativity_edge_is_allowed():
    bound = math.sqrt(4 * math.pi)
    check_params(_default(g_D=bound, y=[bound, -bound, 0.0]))
    assert np.isclose(djax.model.PERTURBATIVITY_BOUND, bound)
