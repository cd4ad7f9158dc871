"""The README's walk-through: a new family touches only its own folder and is registered, listed, tested by the
registry-parametrized tests and saved/reloaded.

The three files of the toy family are taken from README.md (the code blocks after ``<!-- toy-family: PATH -->``), so
the README cannot drift from what works. They are written into a copy of the package; nothing else is changed.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import keras_ae

ROOT = pathlib.Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- toy-family: (\S+) -->\s*```python\n(.*?)```", re.S)


def _toy_files():
    files = dict(BLOCK.findall((ROOT / "README.md").read_text()))
    assert set(files) == {"keras_ae/models/toy/toy_model.py", "keras_ae/models/toy/toy_zoo.py",
                          "keras_ae/models/toy/__init__.py"}, sorted(files)
    return files


def test_a_new_family_touches_only_its_folder(tmp_path):
    package = pathlib.Path(keras_ae.__file__).parent
    shutil.copytree(package, tmp_path / "keras_ae", ignore=shutil.ignore_patterns("__pycache__"))
    before = {p.relative_to(tmp_path) for p in (tmp_path / "keras_ae").rglob("*") if p.is_file()}
    for path, code in _toy_files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    added = {p.relative_to(tmp_path) for p in (tmp_path / "keras_ae").rglob("*") if p.is_file()} - before
    assert {str(p.parent) for p in added} == {"keras_ae/models/toy"}

    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(ROOT / "tests" / "zoo" / "test_zoo_models.py", tests)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    code = (
        "import json, keras_ae\n"
        "from keras_ae import zoo\n"
        "m = zoo.toy_ae()\n"
        "print(json.dumps({'file': keras_ae.__file__, 'family': zoo.list_models('toy'),"
        " 'describe': zoo.describe('toy_ae')['arguments'], 'class': type(m).__name__,"
        " 'exported': hasattr(keras_ae.models, 'ToyAutoencoder')}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["file"].startswith(str(tmp_path))
    assert report["family"] == ["toy_ae"]
    assert report["describe"]["latent_dim"] == 1
    assert report["class"] == "ToyAutoencoder" and report["exported"]

    # the registry-parametrized shared checks (fit, determinism, fresh-process reload with safe_mode=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tests / "test_zoo_models.py"), "-k", "toy_ae", "-q",
                           "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
