"""Every pooling x upsampling mode of the U-Net trains a step, saves, and reloads in a fresh process.

Each configuration goes through keras_ae.testing.check_model (fit, finite metrics, deterministic inference,
.keras save, in-process reload with identical outputs, restored optimizer state, resumed training); then ONE
fresh Python process reloads every saved file with safe_mode=True and repeats the checks, so the whole grid
pays for one interpreter start instead of ten.
"""

import itertools
import json
import os
import subprocess
import sys

import keras
import pytest

from keras_ae import testing
from keras_ae.models.unet import POOLINGS, UPSAMPLINGS
from keras_ae.zoo import unet

CONFIGS = [(p, u) for p, u in itertools.product(POOLINGS, UPSAMPLINGS) if u != "unpool" or p == "max"]

_RELOAD_ALL = r"""
import json, sys
from keras_ae.testing import reload_check
for path, data in zip(sys.argv[1::2], sys.argv[2::2]):
    print(json.dumps(dict(reload_check(path, data, 1e-5), path=path)), flush=True)
"""


def test_every_pooling_and_upsampling_mode_trains_saves_and_reloads_in_a_fresh_process(tmp_path):
    assert len(CONFIGS) == 10
    saved = []
    for i, (pooling, upsampling) in enumerate(CONFIGS):
        model = unet(input_shape=(8, 8, 1), num_classes=3, depth=1, base_filters=2, pooling=pooling,
                     upsampling=upsampling, residual=(i % 2 == 1), dropout=0.1 if i % 3 == 0 else 0.0,
                     name=f"unet_{pooling}_{upsampling}")
        # eager steps: tracing ten graphs costs far more than running these 8x8 models (graph mode is covered by
        # the zoo checks and tests/models/test_unet.py); run_eagerly is saved with the compile config
        model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
        workdir = tmp_path / f"{pooling}_{upsampling}"
        report = testing.check_model(model, "segmentation", workdir=str(workdir), fresh_process=False, atol=1e-5)
        assert report["iterations"] >= 1
        assert report["reload"]["iterations_after"] > report["iterations"]
        assert {"loss", "mean_iou", "dice", "cross_entropy"} <= set(report["history"])
        saved += [report["path"], str(workdir / "check.npz")]
    proc = subprocess.run([sys.executable, "-c", _RELOAD_ALL, *saved], capture_output=True, text=True,
                          env=dict(os.environ), timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(CONFIGS)
    assert all(r["class"] == "UNet" and r["iterations_after"] > r["iterations_before"] for r in rows)


def test_unpool_needs_max_pooling():
    with pytest.raises(ValueError, match="needs\npooling='max'|needs pooling='max'"):
        unet(input_shape=(8, 8, 1), depth=1, base_filters=2, pooling="stride", upsampling="unpool")
