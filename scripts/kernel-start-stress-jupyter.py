#!/usr/bin/python3
"""The silent-kernel repro of scripts/kernel-start-stress.ts through Jupyter's own client.

Starts and stops kernels with jupyter_client (Debian python3-jupyter-client: KernelManager picks
ports by binding port 0 and closing, as KernelClient did; wait_for_ready re-sends kernel_info until
answered) in WORKERS processes at once, and counts the starts not ready within the timeout.

Usage: /usr/bin/python3 scripts/kernel-start-stress-jupyter.py [--kernel fake|tslab] [--n 200]
         [--workers 4] [--fake-delay-ms 2000] [--timeout-s 10] [--neighbour-rate 20 --neighbour-hold-ms 3000]
The kernelspec is written to a temporary JUPYTER_PATH; `fake` is tests/notebook/fixtures/fake-kernel.cjs.
Prints one JSON line per start not ready (with the kernel's stderr), then a summary line.
"""
import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def neighbour(rate: float, hold_s: float, stop: threading.Event) -> None:
    """Listens on system-chosen ports, `rate` a second, each held `hold_s`: a busy shared machine."""
    held = []
    while not stop.is_set():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        held.append((time.monotonic() + hold_s, s))
        while held and held[0][0] < time.monotonic():
            held.pop(0)[1].close()
        time.sleep(1 / rate)
    for _, s in held:
        s.close()


def worker(args: argparse.Namespace, jobs: "multiprocessing.Queue[int]", out: "multiprocessing.Queue[dict]") -> None:
    from jupyter_client.manager import KernelManager

    stop = threading.Event()
    if args.neighbour_rate > 0:
        threading.Thread(target=neighbour, args=(args.neighbour_rate / args.workers, args.neighbour_hold_ms / 1000, stop), daemon=True).start()
    while True:
        i = jobs.get()
        if i < 0:
            break
        t0 = time.monotonic()
        err_path = Path(tempfile.mkstemp(prefix="qb-jc-stderr-")[1])
        with err_path.open("w") as err:
            km = KernelManager(kernel_name="qbstress")
            km.start_kernel(stderr=err, stdout=err)
            ports = [km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port]
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=args.timeout_s)
                rec = {"i": i, "ok": True}
            except RuntimeError as e:
                rec = {"i": i, "ok": False, "error": str(e)[:120], "ports": ports}
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        rec["ms"] = round((time.monotonic() - t0) * 1000)
        if not rec["ok"]:
            rec["stderr"] = err_path.read_text()[-300:]
        err_path.unlink()
        out.put(rec)
    stop.set()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", default="fake")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--fake-delay-ms", type=int, default=2000)
    p.add_argument("--timeout-s", type=float, default=10)
    p.add_argument("--neighbour-rate", type=float, default=0)
    p.add_argument("--neighbour-hold-ms", type=float, default=3000)
    args = p.parse_args()

    spec_root = Path(tempfile.mkdtemp(prefix="qb-jc-spec-"))
    spec_dir = spec_root / "kernels" / "qbstress"
    spec_dir.mkdir(parents=True)
    node = subprocess.run(["node", "-p", "process.execPath"], capture_output=True, text=True, check=True).stdout.strip()
    if args.kernel == "fake":
        argv = [node, str(ROOT / "tests/notebook/fixtures/fake-kernel.cjs"), "{connection_file}"]
        env = {"FAKE_KERNEL_DELAY_MS": str(args.fake_delay_ms)}
    else:
        argv = [node, str(ROOT / "node_modules/tslab/bin/tslab"), "kernel", "--config-path", "{connection_file}"]
        env = {}
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "stress", "language": "typescript", "env": env}))
    os.environ["JUPYTER_PATH"] = str(spec_root)

    jobs: "multiprocessing.Queue[int]" = multiprocessing.Queue()
    out: "multiprocessing.Queue[dict]" = multiprocessing.Queue()
    for i in range(args.n):
        jobs.put(i)
    for _ in range(args.workers):
        jobs.put(-1)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    procs = [multiprocessing.Process(target=worker, args=(args, jobs, out)) for _ in range(args.workers)]
    for pr in procs:
        pr.start()
    not_ready = 0
    for _ in range(args.n):
        rec = out.get()
        if not rec["ok"]:
            not_ready += 1
            print(json.dumps(rec), flush=True)
    for pr in procs:
        pr.join()
    print(json.dumps({"summary": True, "client": "jupyter_client", "kernel": args.kernel, "n": args.n, "workers": args.workers,
                      "notReady": not_ready, "neighbourRate": args.neighbour_rate, "wallS": round(time.monotonic() - t0),
                      "load1AtStart": round(load0, 2), "load1AtEnd": round(os.getloadavg()[0], 2)}))
    sys.exit(0)


if __name__ == "__main__":
    main()
