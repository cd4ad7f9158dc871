"""The ``keras-ae`` command line: ``list``, ``describe``, ``train``, ``evaluate``, ``tune``."""

import argparse
import json
import os
import sys


def _parse_value(text):
    """A ``--arg`` value as TOML data (numbers, booleans, arrays, strings); bare words stay strings."""
    from keras_ae.recipes import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _model_args(pairs):
    args = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise SystemExit(f"keras-ae: --arg expects KEY=VALUE; received {pair!r}.")
        key, value = pair.split("=", 1)
        args[key.strip()] = _parse_value(value.strip())
    return args


def cmd_list(args):
    from keras_ae import zoo

    rows = [(n, zoo.get_entry(n).family, zoo.get_entry(n).summary) for n in zoo.list_models(args.family)]
    width = max([len(r[0]) for r in rows] + [5])
    fam = max([len(r[1]) for r in rows] + [6])
    print(f"{'model':<{width}}  {'family':<{fam}}  summary")
    for name, family, summary in rows:
        print(f"{name:<{width}}  {family:<{fam}}  {summary}")
    return 0


def cmd_describe(args):
    from keras_ae import zoo

    print(json.dumps(zoo.describe(args.name), indent=2, default=str))
    return 0


def cmd_train(args):
    from keras_ae import recipes

    target = args.target
    if target.endswith(".toml") or os.path.isfile(target):
        recipe = recipes.load_recipe(target)
        if args.dataset:
            recipe.data["dataset"] = args.dataset
        for key in ("train_split", "test_split", "batch_size", "data_dir"):
            if getattr(args, key) is not None:
                recipe.data[key] = getattr(args, key)
        if args.seed is not None:
            recipe.train["seed"] = args.seed
        for key in ("distribute", "precision"):
            if getattr(args, key) is not None:
                recipe.train[key] = getattr(args, key)
        recipe.model_args.update(_model_args(args.arg))
    else:
        if not args.dataset:
            raise SystemExit("keras-ae train MODEL needs --dataset (e.g. --dataset digits).")
        recipe = recipes.from_arguments(
            target, args.dataset, epochs=args.epochs if args.epochs is not None else 10, out=args.out,
            batch_size=args.batch_size or 128, seed=args.seed or 0,
            train_split=args.train_split or "train",
            test_split=args.test_split if args.test_split is not None else "test",
            data_dir=args.data_dir or "", model_args=_model_args(args.arg),
            distribute=args.distribute or "none", precision=args.precision or "float32",
        )
    metrics = recipes.run(recipe, out=args.out, epochs=args.epochs, verbose=args.verbose)
    out = args.out or recipe.out
    shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
    print(json.dumps({"out": out, **shown, "setting": metrics["setting"]}, indent=1))
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
            raise ValueError(f"{path} is not valid JSON; pass --dataset and --split explicitly.") from None


def cmd_evaluate(args):
    """Latent analyses of a trained model (a run folder of ``keras-ae train`` or a ``.keras`` file).

    In a run folder the dataset and splits default to the run's ``setting`` (train split for the linear
    probe, test split for everything else). The numbers go to ``metrics.json`` in ``--out`` (default: the run
    folder, or the ``.keras`` file's folder) unless that file already exists (a training run's metrics), in
    which case they go to ``evaluation.json``; the figures (``latent_*.png``) go beside them.
    """
    from keras_ae import data, load_model
    from keras_ae.evaluation.latent import evaluate_latent

    target = args.target
    if os.path.isdir(target):
        model_path, setting, folder = os.path.join(target, "model.keras"), _run_setting(target), target
        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"{target} is a folder without model.keras; pass a run folder written by "
                                    f"`keras-ae train` or a .keras file.")
    elif os.path.isfile(target):
        if not target.endswith(".keras"):
            raise ValueError(f"{target} is not a .keras file; pass a run folder or a model saved as .keras.")
        model_path, setting, folder = target, {}, os.path.dirname(os.path.abspath(target))
    else:
        raise FileNotFoundError(f"No run folder or .keras file at {target!r}.")
    dataset = args.dataset or setting.get("dataset")
    if not dataset:
        raise ValueError("keras-ae evaluate needs --dataset (e.g. --dataset digits) when the target is not a run "
                         "folder of `keras-ae train`.")
    split = args.split or setting.get("test_split") or "test"
    train_split = args.train_split if args.train_split is not None else setting.get("train_split", "train")
    if args.k < 1:
        raise ValueError(f"--k (importance samples per example) must be >= 1; received {args.k}.")
    model = load_model(model_path, compile=False, safe_mode=True)  # analyses only: no optimizer needed
    x_test, y_test = data.load_numpy(dataset, split, args.data_dir)
    x_train = y_train = None
    if train_split:
        x_train, y_train = data.load_numpy(dataset, train_split, args.data_dir)
    out = args.out or folder
    name = "metrics.json"
    if os.path.exists(os.path.join(out, name)):
        name = "evaluation.json"  # never overwrite a training run's metrics
    metrics = evaluate_latent(model, x_test, y_test, x_train, y_train, k=args.k, out=out, seed=args.seed,
                              map_method=args.map, metrics_file=name)
    evaluation = {**metrics, "setting": {"model": model_path, "dataset": dataset, "split": split,
                                         "train_split": train_split or "", "k": args.k, "seed": args.seed,
                                         "map": args.map}}
    with open(os.path.join(out, name), "w") as f:
        json.dump(evaluation, f, indent=1)
    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items() if k != "figures"}
    print(json.dumps({"out": os.path.join(out, name), **shown, "figures": metrics.get("figures", [])}, indent=1))
    return 0


def cmd_tune(args):
    from keras_ae.tuning import run_job

    run_job(args.job, workers=args.workers, overwrite=args.overwrite, out=args.out, timeout=args.timeout)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-ae", description="keras_ae: a Keras 3 model zoo of autoencoders.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the zoo as a table")
    p.add_argument("--family", default=None, help="only this family")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("describe", help="family, summary and arguments of one zoo model")
    p.add_argument("name")
    p.set_defaults(fn=cmd_describe)

    p = sub.add_parser("train", help="train a recipe (zoo/*.toml) or a zoo model on a dataset")
    p.add_argument("target", help="a recipe file (RECIPE.toml) or a zoo model name")
    p.add_argument("--dataset", default=None, help="dataset name (digits, mnist, idx:FOLDER, any tfds name)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--out", default=None, help="output folder (default: the recipe's, or runs/MODEL)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--train-split", dest="train_split", default=None)
    p.add_argument("--test-split", dest="test_split", default=None)
    p.add_argument("--data-dir", dest="data_dir", default=None)
    p.add_argument("--arg", action="append", metavar="KEY=VALUE", help="constructor argument (repeatable)")
    from keras_ae.ops.distribute import DISTRIBUTIONS
    from keras_ae.precision import PRECISIONS

    p.add_argument("--distribute", default=None, choices=DISTRIBUTIONS,
                   help="train on several devices: mirrored (TensorFlow, this machine's GPUs), multi-worker "
                        "(TensorFlow, one process per machine, each with its TF_CONFIG), data-parallel (JAX); "
                        "see docs/scaling.md (default: the recipe's, else none)")
    p.add_argument("--precision", default=None, choices=PRECISIONS,
                   help="the model's dtype policy (default: the recipe's, else float32)")
    p.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity (0, 1, 2)")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="latent analyses of a trained model: IWAE NLL, probes, traversals, maps")
    p.add_argument("target", metavar="RUN_OR_MODEL", help="a run folder of `keras-ae train` or a .keras file")
    p.add_argument("--dataset", default=None, help="dataset name (default: the run's)")
    p.add_argument("--split", default=None, help="evaluation split (default: the run's test split, else 'test')")
    p.add_argument("--train-split", dest="train_split", default=None,
                   help="split the linear probe is fit on (default: the run's train split, else 'train'; '' for none)")
    p.add_argument("--data-dir", dest="data_dir", default=None)
    p.add_argument("--k", type=int, default=1000, help="importance samples per example for the IWAE bound (VAEs)")
    p.add_argument("--map", default="pca", choices=("pca", "tsne"), help="2-D map of the codes")
    p.add_argument("--out", default=None, help="output folder (default: the run folder / the .keras file's)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_evaluate)

    from keras_ae.tuning import add_arguments

    p = sub.add_parser("tune", help="run a KerasTuner job (tuning/*.toml) over latent size, beta, ...; resumable")
    add_arguments(p)
    p.set_defaults(fn=cmd_tune)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as e:
        from keras_ae.data import DatasetUnavailableError

        # Bad input (recipes, jobs, names, data) is a message; set KERAS_AE_DEBUG=1 for the traceback.
        user_error = isinstance(e, (ValueError, TypeError, FileNotFoundError, DatasetUnavailableError))
        if not user_error or os.environ.get("KERAS_AE_DEBUG"):
            raise
        print(f"keras-ae: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
