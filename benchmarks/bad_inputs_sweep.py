"""Count the bad-input sweep of tests/test_bad_inputs.py: clear / unclear / silent / hang (issue 17).

    python benchmarks/bad_inputs_sweep.py [--timeout 60] [--rss-gib 3] [--json OUT.json]

Every case of ``tests/test_bad_inputs.py`` is run with the keras_ae found on ``sys.path`` (so
``PYTHONPATH=/path/to/an/older/checkout python benchmarks/bad_inputs_sweep.py`` counts an older version with the same
cases) and classified as in the test:

- clear: the package's own error of the expected kind (``keras_ae.errors``), not wrapped by TensorFlow or Keras,
  whose message names the argument, data or file (a CLI case: the documented exit status and one line);
- unclear: an error, but of another type, wrapped, or with a message that does not name what was wrong (the detail
  says "[names it]" when only the type is wrong: a builtin ``ValueError`` with a good message);
- silent: no error (or no warning for a warning case);
- hang: still running after ``--timeout`` seconds, or past ``--rss-gib`` GiB of memory (then killed).

Cases that may allocate without bound (``sample(10**9)``) run in a child process under the watchdog; the others run
in this process with a SIGALRM timeout.
"""

import argparse
import collections
import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_cases():
    spec = importlib.util.spec_from_file_location("bad_input_cases", ROOT / "tests" / "test_bad_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that the cases' ``except Exception`` does not swallow it."""


def _alarm(signum, frame):
    raise Hang()


def run_in_process(module, case, ctx, timeout):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(timeout))
    start = time.perf_counter()
    try:
        verdict, detail = module.classify(case, ctx)
    except Hang:
        verdict, detail = "hang", f"still running after {timeout} s"
    except BaseException as e:  # noqa: BLE001 - a CLI case whose main() raised through (a traceback)
        verdict, detail = "unclear", f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        signal.alarm(0)
    return verdict, detail, time.perf_counter() - start


def _rss_gib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def run_isolated(case, timeout, rss_gib):
    """``case`` in a child process, killed past ``timeout`` seconds or ``rss_gib`` GiB."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_path = f.name
    child = subprocess.Popen([sys.executable, __file__, "--one", case.id, "--result", result_path],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start, peak = time.perf_counter(), 0.0
    while child.poll() is None:
        peak = max(peak, _rss_gib(child.pid))
        elapsed = time.perf_counter() - start
        if elapsed > timeout or peak > rss_gib:
            child.kill()
            child.wait()
            why = f"still running after {elapsed:.0f} s" if elapsed > timeout else (
                f"killed at {peak:.1f} GiB of memory after {elapsed:.0f} s, still running")
            return "hang", why, elapsed
        time.sleep(0.2)
    try:
        with open(result_path) as f:
            out = json.load(f)
        return out["verdict"], out["detail"], out["seconds"]
    except (OSError, ValueError):
        return "unclear", f"child exited {child.returncode}: {child.stderr.read()[-300:]}", time.perf_counter() - start
    finally:
        os.remove(result_path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--rss-gib", type=float, default=3.0)
    p.add_argument("--json", default=None, help="write every case's verdict here")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings

    warnings.simplefilter("ignore")
    module = load_cases()
    tmp = tempfile.mkdtemp(prefix="bad_inputs_sweep_")
    ctx = module.Context(tmp)
    cases = module.CASES
    if args.one:
        case = next(c for c in cases if c.id == args.one)
        verdict, detail, seconds = run_in_process(module, case, ctx, args.timeout * 10)
        with open(args.result, "w") as f:
            json.dump({"verdict": verdict, "detail": detail, "seconds": seconds}, f)
        return 0

    import keras_ae

    rows = []
    for i, case in enumerate(cases):
        if case.isolate:
            verdict, detail, seconds = run_isolated(case, args.timeout, args.rss_gib)
        else:
            verdict, detail, seconds = run_in_process(module, case, ctx, args.timeout)
        rows.append({"id": case.id, "family": case.family, "verdict": verdict, "seconds": round(seconds, 2),
                     "detail": detail})
        print(f"[{i + 1:3d}/{len(cases)}] {verdict:8s} {case.family:12s} {case.id}: {detail[:160]}", flush=True)

    counts = collections.Counter(r["verdict"] for r in rows)
    named_builtin = sum(r["verdict"] == "unclear" and r["detail"].startswith("[names it]") for r in rows)
    by_family = collections.defaultdict(collections.Counter)
    for r in rows:
        by_family[r["family"]][r["verdict"]] += 1
    summary = {
        "keras_ae": os.path.dirname(keras_ae.__file__),
        "cases": len(rows),
        "clear": counts["clear"], "unclear": counts["unclear"], "silent": counts["silent"], "hang": counts["hang"],
        "unclear_but_message_names_it": named_builtin,
        "by_family": {f: dict(c) for f, c in sorted(by_family.items())},
        "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "by_family"}))
    for fam, c in summary["by_family"].items():
        print(f"  {fam:12s} " + "  ".join(f"{k} {c.get(k, 0)}" for k in ("clear", "unclear", "silent", "hang")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "cases": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
