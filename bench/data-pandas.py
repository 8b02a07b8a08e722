"""The quantbook data pipeline in pandas, for bench/data.ts (run by it; prints one `@@bench {json}` line).

Input: raw little-endian .npy columns (ts int64 ms UTC, sym int8 codes, OHLCV float64) written
by bench/data.ts: pandas here has no pyarrow, so it cannot read the Parquet file quantbook reads;
np.load of .npy is the fastest input pandas has, so the comparison favours pandas on loading.
Steps mirror bench/data.ts: load, validate, fill gaps inside US RTH sessions, resample to 30
minutes anchored at the session open, typical-price session VWAP.
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

folder = sys.argv[1]
holidays = pd.to_datetime(json.loads(sys.argv[2]))  # naive local dates
names = json.loads(open(f"{folder}/symbols.json").read())


def peak_reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


steps = []


def step(name, fn):
    peak_reset()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    steps.append({"step": name, "seconds": seconds, "peakMb": peak_mb(), "userS": r1.ru_utime - r0.ru_utime,
                  "sysS": r1.ru_stime - r0.ru_stime, "faults": r1.ru_minflt - r0.ru_minflt})
    return out


def load():
    cols = {c: np.load(f"{folder}/{c}.npy") for c in ["ts", "sym", "open", "high", "low", "close", "volume"]}
    df = pd.DataFrame({
        "ts": pd.to_datetime(cols["ts"], unit="ms", utc=True),
        "symbol": pd.Categorical.from_codes(cols["sym"], categories=names),
        "open": cols["open"], "high": cols["high"], "low": cols["low"], "close": cols["close"], "volume": cols["volume"],
    })
    return df


def validate(df):
    step_ms = df.groupby("symbol", observed=True)["ts"].diff().dt.total_seconds().mul(1000)
    if (step_ms <= 0).any():
        raise ValueError("unsorted or duplicate timestamps")
    mode = step_ms.mode().iloc[0]
    if ((step_ms.dropna() % mode) != 0).any():
        raise ValueError("mixed intervals")
    px = df[["open", "high", "low", "close"]].to_numpy()
    if not (np.isfinite(px).all() and (px > 0).all()):
        raise ValueError("bad price")
    if (df.high < df[["open", "close"]].max(axis=1)).any() or (df.low > df[["open", "close"]].min(axis=1)).any():
        raise ValueError("ohlc")
    v = df.volume.to_numpy()
    if not (np.isfinite(v).all() and (v >= 0).all()):
        raise ValueError("volume")
    return int(mode)


def local_day(df):
    local = df.ts.dt.tz_convert("America/New_York").dt.tz_localize(None)
    return local, local.dt.floor("D")


def session_columns(df):
    local, day = local_day(df)
    minute = (local - day).dt.total_seconds() // 60
    inside = (local.dt.weekday < 5) & (minute >= 570) & (minute < 960) & ~day.isin(holidays)
    return day, inside


def fill(df, bar_ms):
    day, inside = session_columns(df)
    df = df[inside.to_numpy()].assign(day=day[inside.to_numpy()].to_numpy())
    g = df.groupby(["symbol", "day"], observed=True, sort=False)["ts"].agg(["min", "max"])
    n = ((g["max"] - g["min"]).dt.total_seconds() * 1000 // bar_ms + 1).astype(np.int64).to_numpy()
    starts = (g["min"].astype("int64") // 10**6).to_numpy()
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    grid = pd.DataFrame({
        "symbol": np.repeat(g.index.get_level_values(0), n),
        "ts": pd.to_datetime(np.repeat(starts, n) + offsets * bar_ms, unit="ms", utc=True),
    })
    out = grid.merge(df.drop(columns="day"), on=["symbol", "ts"], how="left")
    filled = out.close.isna()
    out["close"] = out.close.ffill()
    for c in ["open", "high", "low"]:
        out[c] = out[c].fillna(out.close)
    out["volume"] = out.volume.fillna(0.0)
    out["filled"] = filled
    return out


def resample(df):
    # buckets anchored at each day's 09:30 open (as UTC instants); the input holds session bars only
    _, day = local_day(df)
    open_utc = (day + pd.Timedelta(minutes=570)).dt.tz_localize("America/New_York").dt.tz_convert("UTC")
    every = pd.Timedelta(minutes=30)
    bucket = open_utc + ((df.ts - open_utc) // every) * every
    d = df.assign(bucket=bucket)
    r = d.groupby(["symbol", "bucket"], observed=True, sort=False).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"), volume=("volume", "sum"))
    return r


def vwap(df):
    _, day = local_day(df)
    pv = (df.high + df.low + df.close) / 3 * df.volume
    keys = [df.symbol, day]
    return pv.groupby(keys, observed=True).cumsum() / df.volume.groupby(keys, observed=True).cumsum()


t0 = time.perf_counter()
df = step("load", load)
bar_ms = step("validate", lambda: validate(df))
filled = step("fill gaps", lambda: fill(df, bar_ms))
del df
res = step("resample 30m", lambda: resample(filled))
vw = step("session VWAP", lambda: vwap(filled))
total = time.perf_counter() - t0
print("@@bench " + json.dumps({
    "steps": steps,
    "total": total,
    # each step's high-water mark starts from the memory held when it began: the largest is the run's peak
    "peakMb": max(s["peakMb"] for s in steps),
    "check": {
        "filled": int(filled.filled.sum()),
        "rows": int(len(filled)),
        "resampled": int(len(res)),
        "volume": float(res.volume.sum()),
        "lastVwap": float(vw.iloc[-1]),
    },
}))
