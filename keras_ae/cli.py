"""The ``keras-ae`` command line: ``list``, ``describe``, ``train``, ``evaluate``, ``tune``.

Parsing the command line imports neither Keras nor TensorFlow (``keras-ae --help`` answers at once); they are started
when a command needs them, with TensorFlow's start-up log lines (oneDNN, CUDA, CPU features) held back unless
``--verbose`` is given or ``TF_CPP_MIN_LOG_LEVEL`` is set by the user.
"""

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile

# keras_ae.ops.distribute.DISTRIBUTIONS, keras_ae.precision.PRECISIONS and keras_ae.recipes.LEARNING_RATE_SCHEDULES,
# repeated here because parsing the command line imports no Keras (tests/test_cli.py checks that they agree).
DISTRIBUTIONS = ("none", "mirrored", "multi-worker", "data-parallel")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
LEARNING_RATE_SCHEDULES = ("constant", "cosine")

# TensorFlow's C++ log lines (``I0000 00:00:1700000000.000000  123 port.cc:153] ...``) and absl's preamble.
_TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} [\d:. ]+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl::"
                          r"InitializeLog\(\) is called|To enable the following instructions:)")


@contextlib.contextmanager
def quiet_tensorflow_startup(show=False):
    """Start TensorFlow (and Keras, and keras_ae) with its start-up log lines held back.

    The lines are written to stderr by TensorFlow's C++ runtime before its logging is configured (so
    ``TF_CPP_MIN_LOG_LEVEL`` does not stop all of them); stderr is captured while TensorFlow loads and initializes
    its devices, and everything captured that is not such a line is written back. ``show=True`` (``--verbose``) or
    a ``TF_CPP_MIN_LOG_LEVEL`` set by the user leaves stderr alone.
    """
    if show or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines() if line.strip() and not _TF_LOG_LINE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def start_keras(show_logs=False):
    """Import TensorFlow, Keras and every keras_ae module (quietly, see :func:`quiet_tensorflow_startup`)."""
    import keras_ae

    if getattr(keras_ae, "_LOADED", True) and "tensorflow" in sys.modules:
        return
    with quiet_tensorflow_startup(show_logs):
        import tensorflow as tf

        tf.config.list_physical_devices()
        _ = (tf.constant(1.0) + 1.0).numpy()  # the device initialisation logs its own lines
        keras_ae._load()


def _parse_value(text):
    """A ``--arg`` value as TOML data (numbers, booleans, arrays, strings); bare words stay strings."""
    from keras_ae.recipes import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _pairs(pairs, flag, example="latent_dim=16"):
    from keras_ae.errors import InvalidArgumentError

    args = {}
    for pair in pairs or ():
        if "=" not in pair or not pair.split("=", 1)[0].strip():
            raise InvalidArgumentError(f"{flag} expects KEY=VALUE (e.g. {flag} {example}); received {pair!r}.")
        key, value = pair.split("=", 1)
        args[key.strip()] = _parse_value(value.strip())
    return args


def _show_logs(args):
    return bool(getattr(args, "global_verbose", False)) or getattr(args, "verbose", None) not in (None, 0)


def _fit_verbosity(args, default=2):
    if getattr(args, "quiet", False):
        return 0
    return default if args.verbose is None else int(args.verbose)


def cmd_list(args):
    start_keras(_show_logs(args))
    from keras_ae import zoo

    rows = [(n, zoo.get_entry(n).family, zoo.get_entry(n).summary) for n in zoo.list_models(args.family)]
    width = max([len(r[0]) for r in rows] + [5])
    fam = max([len(r[1]) for r in rows] + [6])
    print(f"{'model':<{width}}  {'family':<{fam}}  summary")
    for name, family, summary in rows:
        print(f"{name:<{width}}  {family:<{fam}}  {summary}")
    return 0


def cmd_describe(args):
    start_keras(_show_logs(args))
    from keras_ae import zoo
    from keras_ae.recipes import family_recipe

    info = zoo.describe(args.name)
    family = family_recipe(args.name)
    info["recipe"] = {"stages": {family.main_stage: "[train] epochs", **family.stage_names(args.name)},
                      "options": {k: {"type": v[0].__name__, "default": v[1], "meaning": v[2]}
                                  for k, v in family.options.items()}}
    print(json.dumps(info, indent=2, default=str))
    return 0


def _is_recipe_path(target):
    return target.endswith(".toml") or os.path.isfile(target) or os.sep in target or "/" in target


def _check_options(recipes, model, options):
    """``--option`` keys and value types against the family's recipe options (an argument error, exit status 2)."""
    from keras_ae.errors import InvalidArgumentError, check_toml_table

    family = recipes.family_recipe(model)
    check_toml_table(options, {k: v[0] for k, v in family.options.items()}, "options", "--option",
                     InvalidArgumentError)


def cmd_train(args):
    from keras_ae import preflight
    from keras_ae.errors import InvalidArgumentError, RecipeError, read_text_file

    # Everything is checked before any data are read or anything is trained.
    preflight.check_train_options(args.epochs, args.batch_size, args.seed, args.verbose)
    model_args = _pairs(args.arg, "--arg")
    options = _pairs(args.option, "--option", "ring_samples=2500")
    stage_epochs = _pairs(args.stage_epochs, "--stage-epochs", "prior=5")
    target = args.target
    if os.path.isdir(target):
        recipes_in = sorted(n for n in os.listdir(target) if n.endswith(".toml"))[:5]
        hint = f" (it holds {', '.join(recipes_in)})" if recipes_in else ""
        raise InvalidArgumentError(f"{target} is a folder{hint}; `keras-ae train` takes a recipe file (e.g. "
                                   f"zoo/conv_vae_digits.toml) or a zoo model name (e.g. conv_vae --dataset digits).")
    start_keras(_show_logs(args))
    import keras_ae.recipes as recipes

    if _is_recipe_path(target):
        read_text_file(target, "recipe", RecipeError)  # missing, a folder, binary: named before TOML parsing
        recipe = recipes.load_recipe(target)
        preflight.check_recipe(recipe)  # the file's own values, named by file and key
        preflight.check_model_args(recipe.model, model_args)
        _check_options(recipes, recipe.model, options)
        if args.dataset:
            recipe.data["dataset"] = args.dataset
        for key in ("train_split", "test_split", "batch_size", "data_dir"):
            if getattr(args, key) is not None:
                recipe.data[key] = getattr(args, key)
        if args.seed is not None:
            recipe.train["seed"] = args.seed
        for key in ("distribute", "precision", "learning_rate_schedule"):
            if getattr(args, key) is not None:
                recipe.train[key] = getattr(args, key)
        recipe.model_args.update(model_args)
        recipe.options.update(options)
        recipe.check()
    else:
        if not args.dataset:
            raise InvalidArgumentError("keras-ae train MODEL needs --dataset (e.g. --dataset digits).")
        preflight.check_model_args(target, model_args)
        _check_options(recipes, target, options)
        recipe = recipes.from_arguments(
            target, args.dataset, epochs=args.epochs if args.epochs is not None else 10, out=args.out,
            batch_size=args.batch_size if args.batch_size is not None else 128,
            seed=args.seed if args.seed is not None else 0, train_split=args.train_split or "train",
            test_split=args.test_split if args.test_split is not None else "test",
            data_dir=args.data_dir or "", model_args=model_args, options=options,
            distribute=args.distribute or "none", precision=args.precision or "float32",
            learning_rate_schedule=args.learning_rate_schedule or "constant",
        )
    recipes._stage_epochs(recipe, recipes.family_recipe(recipe.model), args.epochs, stage_epochs)  # before any work
    preflight.check_out_folder(args.out or recipe.out, "--out" if args.out else f"{recipe.source}: out")
    metrics = recipes.run(recipe, out=args.out, epochs=args.epochs, verbose=_fit_verbosity(args),
                          overwrite=args.overwrite, stage_epochs=stage_epochs,
                          tensorboard=True if args.tensorboard else None)
    out = args.out or recipe.out
    shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
    print(json.dumps({"out": out, **shown, "figures": metrics.get("figures", []), "setting": metrics["setting"]},
                     indent=1, default=str))
    return 0


def _run_setting(folder):
    """The ``setting`` of a run folder's ``metrics.json`` (written by ``keras-ae train``), or ``{}``."""
    path = os.path.join(folder, "metrics.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        try:
            return json.load(f).get("setting", {}) or {}
        except ValueError:
            from keras_ae.errors import RunFolderError

            raise RunFolderError(f"{path} is not valid JSON; pass --dataset and --split explicitly.") from None


def cmd_evaluate(args):
    """The family's measures of a trained model (a run folder of ``keras-ae train`` or a ``.keras`` file) on a chosen
    split, and for models with an encoder the latent analyses.

    In a run folder the dataset and splits default to the run's ``setting`` (train split for what is fit: probes, the
    FID feature network; test split for everything else). The numbers go to ``metrics.json`` in ``--out`` (default:
    the run folder, or the ``.keras`` file's folder) unless that file already exists (a training run's metrics), in
    which case they go to ``evaluation.json``; the figures (``eval_*.png``, ``latent_*.png``) go beside them.
    """
    from keras_ae import preflight
    from keras_ae.errors import InvalidArgumentError, ModelFileError
    from keras_ae.serialization import check_model_file

    if args.k < 1:
        raise InvalidArgumentError(f"--k (importance samples per example) must be >= 1; received {args.k}.")
    target = args.target
    if os.path.isdir(target):
        model_path, setting, folder = os.path.join(target, "model.keras"), _run_setting(target), target
        if not os.path.isfile(model_path):
            raise ModelFileError(f"{target} is a folder without model.keras; pass a run folder written by "
                                 f"`keras-ae train` or a .keras file.")
    elif os.path.exists(target):
        model_path, setting, folder = target, {}, os.path.dirname(os.path.abspath(target))
    else:
        raise ModelFileError(f"No run folder or .keras file at {target!r}.")
    check_model_file(model_path)  # empty, truncated, not a .keras archive: named before any data are read
    dataset = args.dataset or setting.get("dataset")
    if not dataset:
        raise InvalidArgumentError("keras-ae evaluate needs --dataset (e.g. --dataset digits) when the target is not "
                                   "a run folder of `keras-ae train`.")
    split = args.split or setting.get("test_split") or "test"
    train_split = args.train_split if args.train_split is not None else setting.get("train_split", "train")
    if args.out:
        preflight.check_out_folder(args.out, "--out")
    progress = not args.quiet
    start_keras(_show_logs(args))
    import keras_ae.recipes as recipes
    from keras_ae import load_model
    from keras_ae.evaluation.latent import evaluate_latent

    model = load_model(model_path, safe_mode=True)
    model_name = setting.get("model") or recipes.model_family_name(model)
    out = args.out or folder
    os.makedirs(out, exist_ok=True)
    name = "metrics.json"
    if os.path.exists(os.path.join(out, name)):
        name = "evaluation.json"  # never overwrite a training run's metrics
    options = {k: v for k, v in (setting.get("options") or {}).items()
               if k in recipes.family_recipe(model_name).options}
    if "iwae_k" in recipes.family_recipe(model_name).options:
        options["iwae_k"] = 0  # the latent analyses below compute it with --k
    data_dir = args.data_dir if args.data_dir is not None else (setting.get("data_dir") or None)
    measures = recipes.evaluate(model, model_name, dataset, split, train_split, data_dir, out=out, options=options,
                                batch_size=setting.get("batch_size", 128), seed=args.seed, verbose=int(progress))
    evaluation = {k: v for k, v in measures.items() if k != "figures"}
    figures = list(measures.get("figures", []))
    if hasattr(model, "encode"):
        from keras_ae.data.catalog import load_arrays

        test = load_arrays(dataset, split, data_dir)
        train = load_arrays(dataset, train_split, data_dir) if train_split else None
        labelled = test.info.has_labels and len(test.y) and test.y.min() >= 0
        latent = evaluate_latent(model, test.x, test.y if labelled else None,
                                 train.x if train is not None and labelled else None,
                                 train.y if train is not None and labelled else None, k=args.k, out=out,
                                 seed=args.seed, map_method=args.map, metrics_file=name, progress=progress)
        figures += latent.pop("figures", [])
        evaluation.update(latent)
    evaluation["figures"] = figures
    evaluation["setting"] = {"model": model_path, "zoo_model": model_name, "dataset": dataset, "split": split,
                             "train_split": train_split or "", "k": args.k, "seed": args.seed, "map": args.map}
    from keras_ae.runs import write_json

    write_json(os.path.join(out, name), evaluation)
    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in evaluation.items()
             if k not in ("figures", "setting")}
    print(json.dumps({"out": os.path.join(out, name), **shown, "figures": figures}, indent=1, default=str))
    return 0


def cmd_tune(args):
    from keras_ae import preflight
    from keras_ae.errors import InvalidArgumentError

    if args.workers < 0:
        raise InvalidArgumentError(f"--workers must be 0 (search in this process) or a number of worker processes "
                                   f">= 1; received {args.workers}.")
    if args.timeout is not None and not args.timeout > 0:
        raise InvalidArgumentError(f"--timeout must be a number of seconds > 0; received {args.timeout}.")
    if args.out:
        preflight.check_out_folder(args.out, "--out")
    start_keras(_show_logs(args))
    from keras_ae.tuning import run_job

    run_job(args.job, workers=args.workers, overwrite=args.overwrite, out=args.out, timeout=args.timeout,
            verbose=_fit_verbosity(args, default=1))
    return 0


def _verbosity_arguments(p, what):
    p.add_argument("--verbose", nargs="?", type=int, const=1, default=None, metavar="LEVEL",
                   help=f"{what}; also shows TensorFlow's start-up log lines")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-ae", description="keras_ae: a Keras 3 model zoo of autoencoders.")
    parser.add_argument("--verbose", dest="global_verbose", action="store_true",
                        help="show TensorFlow's start-up log lines")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the zoo as a table")
    p.add_argument("--family", default=None, help="only this family")
    p.set_defaults(fn=cmd_list, verbose=None)

    p = sub.add_parser("describe", help="family, summary, arguments and recipe options of one zoo model")
    p.add_argument("name")
    p.set_defaults(fn=cmd_describe, verbose=None)

    p = sub.add_parser("train", help="train a recipe (zoo/*.toml) or a zoo model on a dataset; resumable")
    p.add_argument("target", help="a recipe file (RECIPE.toml) or a zoo model name")
    p.add_argument("--dataset", default=None,
                   help="dataset name (digits, mnist, idx:FOLDER, two_moons, ring_of_gaussians, cells, any tfds name)")
    p.add_argument("--epochs", type=int, default=None, help="epochs of the main stage")
    p.add_argument("--stage-epochs", dest="stage_epochs", action="append", metavar="STAGE=N",
                   help="epochs of another stage (VQ-VAE: prior; stacked AE: pretrain), repeatable")
    p.add_argument("--out", default=None, help="output folder (default: the recipe's, or runs/MODEL)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--train-split", dest="train_split", default=None)
    p.add_argument("--test-split", dest="test_split", default=None)
    p.add_argument("--data-dir", dest="data_dir", default=None)
    p.add_argument("--arg", action="append", metavar="KEY=VALUE", help="constructor argument (repeatable)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="family option of the recipe's [options] (repeatable; see `keras-ae describe MODEL`)")
    p.add_argument("--overwrite", action="store_true", help="delete the folder's previous run and start over")
    p.add_argument("--tensorboard", action="store_true",
                   help="log scalars and images per epoch to OUT/tensorboard (also: [train] tensorboard = true)")
    _verbosity_arguments(p, "Keras progress output: 0 none, 1 bar, 2 one line per epoch (default)")
    p.add_argument("--distribute", default=None, choices=DISTRIBUTIONS,
                   help="train on several devices: mirrored (TensorFlow, this machine's GPUs), multi-worker "
                        "(TensorFlow, one process per machine, each with its TF_CONFIG), data-parallel (JAX); "
                        "see docs/scaling.md (default: the recipe's, else none)")
    p.add_argument("--precision", default=None, choices=PRECISIONS,
                   help="the model's dtype policy (default: the recipe's, else float32)")
    p.add_argument("--learning-rate-schedule", dest="learning_rate_schedule", default=None,
                   choices=LEARNING_RATE_SCHEDULES,
                   help="cosine: the learning rate decays to 1%% of its first value over each fit stage's epochs "
                        "(default: the recipe's, else constant)")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="the family's measures of a trained model on a split; latent analyses")
    p.add_argument("target", metavar="RUN_OR_MODEL", help="a run folder of `keras-ae train` or a .keras file")
    p.add_argument("--dataset", default=None, help="dataset name (default: the run's)")
    p.add_argument("--split", default=None, help="evaluation split (default: the run's test split, else 'test')")
    p.add_argument("--train-split", dest="train_split", default=None,
                   help="split fit by measures that fit something: linear probe, FID features (default: the run's "
                        "train split, else 'train'; '' for none)")
    p.add_argument("--data-dir", dest="data_dir", default=None)
    p.add_argument("--k", type=int, default=1000, help="importance samples per example for the IWAE bound (VAEs)")
    p.add_argument("--map", default="pca", choices=("pca", "tsne"), help="2-D map of the codes")
    p.add_argument("--out", default=None, help="output folder (default: the run folder / the .keras file's)")
    p.add_argument("--seed", type=int, default=0)
    _verbosity_arguments(p, "show progress bars (default)")
    p.set_defaults(fn=cmd_evaluate)

    from keras_ae.tuning import add_arguments

    p = sub.add_parser("tune", help="run a KerasTuner job (tuning/*.toml) over latent size, beta, ...; resumable")
    add_arguments(p)
    _verbosity_arguments(p, "Keras progress output of the trials")
    p.set_defaults(fn=cmd_tune)
    return parser


def exit_status(error):
    """The exit status of ``keras-ae`` for ``error`` (README, "Errors and exit statuses"), or ``None`` for an
    unexpected one (a bug: its traceback is shown)."""
    from keras_ae.errors import KerasAEError

    if isinstance(error, KerasAEError):
        return error.exit_status
    if isinstance(error, KeyboardInterrupt):
        return 130
    if isinstance(error, MemoryError):
        return 8
    if isinstance(error, OSError):  # permission denied, disk full, read-only disk: a file or folder named in it
        return 7
    if isinstance(error, (ValueError, TypeError)):  # a bad value that reached Keras or TensorFlow
        return 2
    return None


def main(argv=None):
    """Run one command; returns its exit status. A bad input prints one line, ``keras-ae: error: ...``, and exits
    with the status of its kind (set ``KERAS_AE_DEBUG=1`` to see the traceback as well)."""
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - classified below; unexpected ones re-raised
        status = exit_status(e)
        if status is None:
            raise
        if os.environ.get("KERAS_AE_DEBUG"):
            import traceback

            traceback.print_exc()
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"keras-ae: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
