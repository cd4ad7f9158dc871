"""Every registered zoo model, through the shared model-test helper. The reload is checked in this process (CI's
time): the fresh-process reload of every zoo model is in tests/test_recipes.py, which reloads the model of every
recipe in one fresh process, and `test_recipes_cover_the_zoo` there keeps every zoo model under a recipe."""

import json

import pytest

import keras_ae
from keras_ae import testing, zoo


@pytest.mark.parametrize("name", zoo.list_models())
def test_zoo_model_passes_shared_checks(name, tmp_path):
    entry = zoo.get_entry(name)
    model = zoo.create(name, **entry.test_kwargs)
    assert model.compiled, f"{name}() must return a compiled model"
    report = testing.check_model(model, entry.test_data, workdir=str(tmp_path), fresh_process=False)
    assert report["reload"]["iterations_before"] == report["iterations"]
    assert report["reload"]["iterations_after"] > report["iterations"]
    # the saved file reloads with safe_mode=True in this process too, as the same class
    reloaded = keras_ae.load_model(report["path"], safe_mode=True)
    assert type(reloaded) is type(model)
    # same configuration (compared as saved: JSON turns tuples into lists)
    as_saved = lambda m: json.dumps(m.get_config(), sort_keys=True, default=str)  # noqa: E731
    assert as_saved(reloaded) == as_saved(model)
