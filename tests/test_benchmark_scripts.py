"""Every script in benchmarks/ reaches its argument parser: ``--help`` exits 0. The docs quote these scripts' commands
for their figures (issue 14); a renamed import broke benchmarks/vae_vs_keras_io.py for weeks without a test noticing.
The scripts are imported in this process and their ``main`` run with ``--help`` (no data read, nothing trained)."""

import importlib.util
import os
import pathlib
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "recipe_runs")


def test_every_script_is_listed():
    assert len(SCRIPTS) >= 20 and "vae_vs_keras_io" in SCRIPTS and "probes" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_help(name, monkeypatch, capsys):
    # a script may set environment defaults or extend sys.path when imported: undone after the test, so no other
    # test in this worker (or a subprocess it starts) inherits them
    for key in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
        else:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their helper (recipe_runs) by name
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        module.main()
    assert exit_info.value.code in (0, None)
    assert "usage:" in capsys.readouterr().out
