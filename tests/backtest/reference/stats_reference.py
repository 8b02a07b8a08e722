"""Reference values for tests/backtest/stats.test.ts, computed independently with pandas/numpy.

Run with the Debian interpreter that has pandas:  /usr/bin/python3 stats_reference.py > stats_reference.json
The equity curve is rebuilt from the same seeded recipe as the test (a deterministic formula,
no random generator), so both sides see identical inputs.
"""
import json
import math

import numpy as np
import pandas as pd

n = 500
t = np.arange(n)
# A curve with drift, a cycle and a deep dip, so every statistic is non-trivial.
equity = 100_000 * np.exp(0.0004 * t + 0.02 * np.sin(t / 7.0) - 0.15 * np.exp(-(((t - 300) / 25.0) ** 2)))
ts = pd.to_datetime(1_704_067_200_000 + t * 86_400_000, unit="ms", utc=True)
s = pd.Series(equity, index=ts)
ppy = 365  # 24x7 daily bars

r = s.pct_change().dropna()
years = (ts[-1] - ts[0]).total_seconds() / (365.25 * 86400)
total = s.iloc[-1] / s.iloc[0] - 1
cagr = (s.iloc[-1] / s.iloc[0]) ** (1 / years) - 1
vol = r.std(ddof=1) * math.sqrt(ppy)
rf_annual = 0.03
rf = (1 + rf_annual) ** (1 / ppy) - 1
sharpe = (r - rf).mean() / (r - rf).std(ddof=1) * math.sqrt(ppy)
downside = np.sqrt((np.minimum(r - 0.0, 0) ** 2).mean())
sortino = r.mean() / downside * math.sqrt(ppy)
peak = s.cummax()
dd = 1 - s / peak
maxdd = dd.max()
# Longest drawdown: from a peak to the first point back at or above it (or the end).
longest = 0
start = None
for i, (e, p) in enumerate(zip(s.values, peak.values)):
    if e < p and start is None:
        start = i - 1
    if e >= p and start is not None:
        longest = max(longest, i - start)
        start = None
if start is not None:
    longest = max(longest, n - 1 - start)
pf_period = r[r > 0].sum() / -r[r < 0].sum()

print(json.dumps({
    "periods": int(len(r)),
    "years": years,
    "totalReturnPct": 100 * total,
    "cagrPct": 100 * cagr,
    "annualVolPct": 100 * vol,
    "sharpe": sharpe,
    "sortino": sortino,
    "maxDrawdownPct": 100 * maxdd,
    "maxDrawdownDurationBars": longest,
    "calmar": cagr / maxdd,
    "profitFactorPerPeriod": pf_period,
}, indent=2))
