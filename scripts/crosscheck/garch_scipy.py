#!/usr/bin/python3
"""Independent check of the GARCH(1,1)-t / GJR-GARCH(1,1)-t fit of src/forecast/volatility.ts.

Maximises the same log-likelihood (zero mean, standardized Student-t innovations,
sigma_1^2 = mean(r^2)) with scipy.optimize.minimize (SLSQP, bounds and the stationarity
constraint) from its own starting points, on the returns written by garch-input.ts, and
writes the optimum of every pair and model as JSON. Needs Debian's python3-scipy only.

Usage: /usr/bin/python3 scripts/crosscheck/garch_scipy.py [IN] [OUT]
  defaults: tests/forecast/fixtures/garch-returns.json, tests/forecast/fixtures/garch-scipy.json
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy.optimize import minimize
from scipy.special import gammaln

ROOT = Path(__file__).resolve().parents[2]
IN = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/forecast/fixtures/garch-returns.json"
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests/forecast/fixtures/garch-scipy.json"


def loglik(r, omega, alpha, gamma, beta, nu, backcast):
    """Sum of log densities of r_t = sigma_t z_t, z_t standardized t(nu)."""
    n = len(r)
    s2 = np.empty(n)
    s2[0] = backcast
    for t in range(1, n):
        prev = r[t - 1]
        s2[t] = omega + (alpha + (gamma if prev < 0 else 0.0)) * prev * prev + beta * s2[t - 1]
    k = nu - 2.0
    c = (nu + 1.0) / 2.0
    ll = gammaln(c) - gammaln(nu / 2.0) - 0.5 * math.log(math.pi * k) - 0.5 * np.log(s2) - c * np.log1p(r * r / (k * s2))
    return float(ll.sum())


def fit(r, asymmetric):
    b = float(np.mean(r * r))
    s = math.sqrt(b)
    x = r / s  # scaled returns: backcast 1, omega' = omega / b

    def unpack(th):
        if asymmetric:
            om, a, g, be, nu = th
        else:
            om, a, be, nu = th
            g = 0.0
        return om, a, g, be, nu

    def negll(th):
        om, a, g, be, nu = unpack(th)
        v = loglik(x, om, a, g, be, nu, 1.0)
        return -v if math.isfinite(v) else 1e10

    cons = [{"type": "ineq", "fun": lambda th: 1.0 - 1e-6 - (lambda p: p[1] + p[2] / 2 + p[3])(unpack(th))}]
    if asymmetric:
        cons.append({"type": "ineq", "fun": lambda th: th[1] + th[2]})
        bounds = [(1e-8, 10.0), (0.0, 1.0), (-1.0, 1.0), (0.0, 1.0), (2.05, 200.0)]
    else:
        bounds = [(1e-8, 10.0), (0.0, 1.0), (0.0, 1.0), (2.05, 200.0)]
    best = None
    for a0, b0, nu0 in [(0.1, 0.8, 5.0), (0.05, 0.9, 8.0), (0.3, 0.4, 4.0), (0.15, 0.6, 10.0)]:
        x0 = [1 - a0 - b0, a0, 0.0, b0, nu0] if asymmetric else [1 - a0 - b0, a0, b0, nu0]
        res = minimize(negll, x0, method="SLSQP", bounds=bounds, constraints=cons, options={"ftol": 1e-12, "maxiter": 1000})
        if best is None or res.fun < best.fun:
            best = res
    om, a, g, be, nu = unpack(best.x)
    n = len(r)
    return {
        "params": {"omega": om * b, "alpha": a, "gamma": g, "beta": be, "nu": nu},
        # Back to log-return units: the density of r = s x is the density of x over s.
        "logLik": -best.fun - n * math.log(s),
        "success": bool(best.success),
        "message": str(best.message),
        "n": n,
        "backcast": b,
    }


def main():
    data = json.loads(IN.read_text())
    out = {"scipy": scipy.__version__, "method": "SLSQP, 4 starts, ftol 1e-12", "fits": {}}
    # The kernel itself at one fixed point, independent of any optimiser.
    ref = {"omega": 1e-6, "alpha": 0.1, "gamma": 0.05, "beta": 0.8, "nu": 5.0}
    out["reference"] = {"params": ref, "logLik": {}}
    for name, rs in data["returns"].items():
        r = np.asarray(rs, dtype=float)
        out["fits"][name] = {"garch": fit(r, False), "gjr-garch": fit(r, True)}
        out["reference"]["logLik"][name] = loglik(r, ref["omega"], ref["alpha"], ref["gamma"], ref["beta"], ref["nu"], float(np.mean(r * r)))
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
