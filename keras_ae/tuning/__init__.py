"""KerasTuner jobs over the zoo: latent size, beta, learning rate... resumable, on one process or many workers.

``keras-ae tune JOB.toml [--workers N] [--overwrite] [--out DIR]`` (or ``python -m keras_ae.tuning ...``) runs
:func:`run_job`. See ``docs/tuning.md``.
"""

import argparse
import os
import shutil
import sys

from keras_ae.tuning.jobs import JobError, Job, load_job, parse_job, prepare, search  # noqa: F401
from keras_ae.tuning.spaces import SearchSpaceError, default_space  # noqa: F401

__all__ = ["run_job", "main", "load_job", "parse_job", "JobError", "SearchSpaceError", "default_space",
           "ZooHyperModel"]


def __getattr__(name):  # keras_tuner is imported only when the hypermodel is needed
    if name == "ZooHyperModel":
        from keras_ae.tuning.hypermodel import ZooHyperModel

        return ZooHyperModel
    raise AttributeError(name)


def run_job(path, workers=0, overwrite=False, out=None, timeout=None, verbose=1):
    """Run (or continue) the tuning job in ``path``; return the results dict (also in ``OUT/results.json``).

    ``workers=0`` searches in this process; ``workers=N`` starts KerasTuner's distributed mode (a chief and N
    worker processes on 127.0.0.1 sharing ``out``). A rerun continues where a killed run stopped, never repeating
    a completed trial; ``overwrite=True`` deletes the previous search first.
    """
    from keras_ae.errors import check_positive_int
    from keras_ae.tuning import jobs, results

    if workers != 0:
        check_positive_int("workers", workers, minimum=0)
    job = load_job(path)
    out = out or job.out
    os.makedirs(out, exist_ok=True)
    prepared = prepare(job)  # errors (objective, names) before any process starts
    if overwrite:
        for sub in (jobs.tuner_directory(out), jobs.events_directory(out), os.path.join(out, "logs")):
            shutil.rmtree(sub, ignore_errors=True)
        for name in ("trials.csv", "results.json", "best_model.keras", "objective.png"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    if workers:
        from keras_ae.tuning.distributed import launch

        launch(path, out, workers, timeout=timeout, verbose=bool(verbose))
    else:
        for var in ("KERASTUNER_ORACLE_IP", "KERASTUNER_TUNER_ID"):  # a stray variable would make this a worker
            if var in os.environ and not os.environ.get("KERAS_AE_TUNING_ROLE"):
                raise RuntimeError(f"{var} is set in the environment; unset it or use --role for a distributed run.")
        search(prepared, out, verbose=verbose)
    return results.finalize(prepared, out, verbose=bool(verbose))


def _parser(prog="python -m keras_ae.tuning"):
    p = argparse.ArgumentParser(prog=prog, description="Run a KerasTuner job file (TOML) over a zoo model.")
    add_arguments(p)
    p.add_argument("--role", choices=("chief", "worker"),
                   help="run one process of a distributed search (with the KERASTUNER_* environment variables; "
                        "see docs/tuning.md); --workers starts these for you")
    return p


def add_arguments(p):
    """The arguments of ``keras-ae tune``."""
    p.add_argument("job", help="job file (TOML), e.g. tuning/conv_vae_latent_beta.toml")
    p.add_argument("--workers", type=int, default=0,
                   help="run KerasTuner's distributed mode with a chief and N worker processes (default: 0 = one process)")
    p.add_argument("--overwrite", action="store_true", help="delete the previous search in the output folder and start over")
    p.add_argument("--out", default=None, help="output folder (default: the job's `out`)")
    p.add_argument("--timeout", type=float, default=None, help="stop a distributed search after this many seconds")
    return p


def main(argv=None):
    """Entry point of ``python -m keras_ae.tuning`` / ``keras-ae tune``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.role:  # one process of a distributed search (started by run_job/launch, or by hand on a cluster)
            os.environ["KERAS_AE_TUNING_ROLE"] = args.role
            job = load_job(args.job)
            out = args.out or job.out
            search(prepare(job), out, verbose=1 if args.role == "chief" else 2)
            return 0
        run_job(args.job, workers=args.workers, overwrite=args.overwrite, out=args.out, timeout=args.timeout)
    except (JobError, SearchSpaceError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        from keras_ae.data.sources import DatasetUnavailableError

        if isinstance(e, DatasetUnavailableError):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    return 0
