#!/usr/bin/python3
"""Coefficients of the degree-5 polynomial for 2^f on [0, 1) in engine/ops/osh-vec.h
(osh_m512_exp2_unit): a least-squares fit reweighted by its own error (Lawson's iteration), which
converges to the fit of least maximum relative error, then checked in float32 Horner arithmetic.

    /usr/bin/python3 tools/reference/exp2-fit.py
"""
import numpy as np

DEGREE = 5


def fit(degree, iterations=200):
    x = np.linspace(0.0, 1.0, 20001)
    y = 2.0 ** x
    vander = np.vander(x, degree + 1, increasing=True)
    weight = np.ones_like(x)
    for _ in range(iterations):
        root = np.sqrt(weight)
        coef = np.linalg.lstsq(vander * (root / y)[:, None], root, rcond=None)[0]
        weight = weight * np.abs(vander @ coef - y) / y
        weight /= weight.sum()
    return x, y, coef.astype(np.float32)


def horner32(coef, x):
    x = x.astype(np.float32)
    p = np.full_like(x, coef[-1])
    for c in coef[-2::-1]:
        p = (p * x + c).astype(np.float32)
    return p


if __name__ == "__main__":
    x, y, coef = fit(DEGREE)
    err = np.abs(horner32(coef, x) - y) / y
    print("coefficients, constant term first:")
    print(", ".join("%.9ef" % c for c in coef))
    print("max relative error in float32: %.3g" % err.max())
