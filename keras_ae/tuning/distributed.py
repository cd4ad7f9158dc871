"""KerasTuner's distributed mode on one machine: a chief (the oracle, a gRPC server on 127.0.0.1) and N workers.

Every process runs ``python -m keras_ae.tuning JOB --out OUT --role chief|worker`` with KerasTuner's environment
variables::

    KERASTUNER_TUNER_ID     "chief" for the oracle process, "tuner0", "tuner1", ... for the workers
    KERASTUNER_ORACLE_IP    the chief's address (127.0.0.1 here)
    KERASTUNER_ORACLE_PORT  the chief's port (a free one is picked)

All of them share the output folder. Where GPUs exist each worker gets its own (``CUDA_VISIBLE_DEVICES``).
Children are started in their own process group, die with the launcher (Linux ``PR_SET_PDEATHSIG``), and are
terminated (then killed) when anything fails or the timeout passes.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

from keras_ae.errors import InvalidArgumentError

ORACLE_IP = "127.0.0.1"


def free_port(host=ORACLE_IP):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def visible_gpus():
    """GPU ids to hand out: CUDA_VISIBLE_DEVICES if set, else those ``nvidia-smi -L`` lists, else none."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g for g in env.split(",") if g.strip() not in ("", "-1")]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def _die_with_parent():  # runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - not Linux
        pass


def _spawn(cmd, env, log_path):
    log = open(log_path, "ab")
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=preexec)
    proc._log = log
    return proc


def _stop(procs, grace=10.0):
    """SIGTERM every live process group, then SIGKILL what is left after ``grace`` seconds."""
    live = [p for p in procs if p.poll() is None]
    for p in live:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    for p in live:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    for p in procs:
        p._log.close()


def _tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def launch(job_path, out, workers, timeout=None, chief_grace=120.0, poll=0.5, verbose=True):
    """Run the search with a chief and ``workers`` worker processes; return when all have finished.

    Raises ``RuntimeError`` (after stopping every process) if a process fails or ``timeout`` seconds pass.
    """
    if workers < 1:
        raise InvalidArgumentError(f"`workers` must be >= 1 for a distributed search; received {workers!r}.")
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    port = free_port()
    base = dict(os.environ, KERASTUNER_ORACLE_IP=ORACLE_IP, KERASTUNER_ORACLE_PORT=str(port),
                PYTHONUNBUFFERED="1")
    gpus = visible_gpus()
    cmd = [sys.executable, "-m", "keras_ae.tuning", os.path.abspath(job_path), "--out", os.path.abspath(out)]
    procs = {}
    start = time.monotonic()
    try:
        chief_env = dict(base, KERASTUNER_TUNER_ID="chief", CUDA_VISIBLE_DEVICES="-1")
        procs["chief"] = _spawn(cmd + ["--role", "chief"], chief_env, os.path.join(logs, "chief.log"))
        for i in range(workers):
            env = dict(base, KERASTUNER_TUNER_ID=f"tuner{i}")
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
            procs[f"tuner{i}"] = _spawn(cmd + ["--role", "worker"], env, os.path.join(logs, f"tuner{i}.log"))
        with open(os.path.join(logs, "pids.json"), "w") as f:
            json.dump({name: p.pid for name, p in procs.items()}, f)
        if verbose:
            print(f"chief on {ORACLE_IP}:{port} and {workers} workers"
                  + (f" on GPUs {[gpus[i % len(gpus)] for i in range(workers)]}" if gpus else "")
                  + f"; logs in {logs}", flush=True)
        workers_done_at = None
        while True:
            time.sleep(poll)
            for name, p in procs.items():
                rc = p.poll()
                if rc not in (None, 0):
                    raise RuntimeError(f"tuning process {name} exited with status {rc}; its log "
                                       f"({os.path.join(logs, name + '.log')}) ends with:\n"
                                       f"{_tail(os.path.join(logs, name + '.log'))}")
            if all(p.poll() == 0 for p in procs.values()):
                return
            if workers_done_at is None and all(procs[n].poll() == 0 for n in procs if n != "chief"):
                workers_done_at = time.monotonic()
            if workers_done_at is not None and time.monotonic() - workers_done_at > chief_grace:
                raise RuntimeError(f"the chief did not exit {chief_grace:.0f} s after every worker finished.")
            if timeout is not None and time.monotonic() - start > timeout:
                raise RuntimeError(f"the distributed search did not finish within {timeout} s; stopped it.")
    finally:
        _stop(list(procs.values()))
