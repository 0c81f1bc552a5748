"""Independent high-precision reference for the model observables (mpmath, 50 digits).

Evaluates the model's formulas literally: Feynman-parameter integrals by mpmath quadrature and the explicit
sum over scalar mass eigenstates k (no GIM factorisation, no closed forms), so it shares no code with djax.
Run as a script to print the reference numbers for the default benchmark point.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 50

ALPHA = mp.mpf(1) / mp.mpf("137.035999084")
E = mp.sqrt(4 * mp.pi * ALPHA)
M_L = [mp.mpf("0.51099895000e-3"), mp.mpf("0.1056583755"), mp.mpf("1.77693")]
HBAR = mp.mpf("6.582119569e-25")
GAMMA = [None, HBAR / mp.mpf("2.1969811e-6"), HBAR / mp.mpf("290.3e-15")]
MU_B = E / (2 * M_L[0])


def feynman(weight, r):
    return mp.quad(lambda x: weight(x) / (1 - x + r * x), [0, 1])


I_F = lambda r: feynman(lambda x: x**2, r)  # noqa: E731
I_S = lambda r: feynman(lambda x: x * (1 - x), r)  # noqa: E731
K = lambda r: feynman(lambda x: x, r)  # noqa: E731
L_F = lambda r: feynman(lambda x: x**2 * (1 - x), r)  # noqa: E731


def G(M, m):
    return m**2 * mp.log(m**2 / M**2) / (m**2 - M**2)


def couplings(theta, y, yp):
    c, s = mp.cos(theta), mp.sin(theta)
    O = [[c, s], [-s, c]]
    A = [[mp.mpc(y[a]) * O[0][k] for k in range(2)] for a in range(3)]
    B = [[mp.mpc(yp[a]) * O[1][k] for k in range(2)] for a in range(3)]
    return A, B


def reference(M_F, m_S1, m_S2, theta, y, yp, g_D, Q_F=1):
    M_F, m_S = mp.mpf(M_F), [mp.mpf(m_S1), mp.mpf(m_S2)]
    theta, g_D, Q_F = mp.mpf(theta), mp.mpf(g_D), mp.mpf(Q_F)
    A, B = couplings(theta, y, yp)
    r = [M_F**2 / m**2 for m in m_S]
    IF = [I_F(x) for x in r]
    LF = [L_F(x) for x in r]
    KK = [K(x) for x in r]
    Cm = [[mp.mpc(0)] * 3 for _ in range(3)]
    for j in range(3):
        for i in range(3):
            acc = mp.mpc(0)
            for k in range(2):
                acc += (
                    M_F * mp.conj(A[j][k]) * B[i][k] * IF[k]
                    + (M_L[i] * mp.conj(A[j][k]) * A[i][k] + M_L[j] * mp.conj(B[j][k]) * B[i][k]) * LF[k] / 2
                ) / m_S[k] ** 2
            Cm[j][i] = E / (32 * mp.pi**2) * acc

    def br(i, j):
        ps = (1 - M_L[j] ** 2 / M_L[i] ** 2) ** 3  # two-body phase space of the dipole operator
        return M_L[i] ** 3 / (4 * mp.pi * GAMMA[i]) * ps * (abs(Cm[j][i]) ** 2 + abs(Cm[i][j]) ** 2)

    lam = [[mp.mpc(0)] * 3 for _ in range(3)]
    mnu = [[mp.mpc(0)] * 3 for _ in range(3)]
    for a in range(3):
        for b in range(3):
            acc = mp.mpc(0)
            accm = mp.mpc(0)
            for k in range(2):
                acc += (mp.conj(A[a][k]) * B[b][k] - mp.conj(A[b][k]) * B[a][k]) * KK[k] / m_S[k] ** 2
                accm += (A[a][k] * mp.conj(B[b][k]) + A[b][k] * mp.conj(B[a][k])) * G(M_F, m_S[k])
            lam[a][b] = g_D * Q_F * M_F / (16 * mp.pi**2) * acc
            mnu[a][b] = -M_F / (16 * mp.pi**2) * accm
    return {
        "C": Cm,
        "br_mu_e_gamma": br(1, 0),
        "br_tau_e_gamma": br(2, 0),
        "br_tau_mu_gamma": br(2, 1),
        "delta_a": [4 * M_L[l] / E * mp.re(Cm[l][l]) for l in range(3)],
        "lambda_GeV": lam,
        "lambda_muB": [[x / MU_B for x in row] for row in lam],
        "m_nu_GeV": mnu,
    }


if __name__ == "__main__":
    ref = reference(1000, 400, 700, mp.pi / 4, [1e-4, 2e-4, 0], [2e-4, -1e-4, 0], 0.3)
    for k in ("br_mu_e_gamma", "br_tau_e_gamma", "br_tau_mu_gamma"):
        print(k, mp.nstr(ref[k], 15))
    print("lambda_muB[e,mu]", mp.nstr(ref["lambda_muB"][0][1], 15))
