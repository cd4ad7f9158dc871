"""Segmentation scores and instance recovery on hand-made masks."""

import numpy as np
import pytest

from keras_ae.data.cells import make_cells
from keras_ae.evaluation.segmentation import (confusion_matrix, count_recovered_instances, mean_dice, mean_iou,
                                              per_class_iou, recover_instances, segmentation_report)


def test_iou_and_dice_by_hand():
    true = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [0, 2, 0, 1]])
    m = confusion_matrix(true, pred, 3)
    assert m.tolist() == [[2, 1, 0], [0, 3, 0], [1, 0, 1]]
    # class 0: tp 2, union 2+1+1=4; class 1: tp 3, union 4; class 2: tp 1, union 2
    np.testing.assert_allclose(per_class_iou(true, pred, 3), [0.5, 0.75, 0.5])
    assert mean_iou(true, pred, 3) == pytest.approx((0.5 + 0.75 + 0.5) / 3)
    # dice: 2*2/(3+3), 2*3/(3+4), 2*1/(2+1)
    assert mean_dice(true, pred, 3) == pytest.approx((4 / 6 + 6 / 7 + 2 / 3) / 3)
    # a class absent from truth and prediction is left out of the mean
    assert mean_iou(true, pred, 5) == pytest.approx(mean_iou(true, pred, 3))
    with pytest.raises(ValueError, match="same shape"):
        mean_iou(true, pred[:, :2], 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        confusion_matrix(true, pred, 2)


def _two_touching_cells(separated=True):
    sem = np.zeros((7, 12), "int32")
    sem[1:6, 1:11] = 2
    sem[2:5, 2:5] = 1
    sem[2:5, 7:10] = 1
    if not separated:
        sem[2:5, 5:7] = 1  # the border between them is missing: one merged interior
    inst = np.zeros((7, 12), "int32")
    inst[1:6, 1:6] = 1
    inst[1:6, 6:11] = 2
    return sem, inst


def test_recover_instances_separates_cells_split_by_a_border():
    sem, inst = _two_touching_cells(separated=True)
    pred = recover_instances(sem)
    assert len(np.unique(pred)) - 1 == 2
    assert pred[3, 3] != pred[3, 8]
    assert (pred > 0).sum() == (sem > 0).sum()  # grown back over the border pixels
    assert count_recovered_instances(inst, pred) == (2, 2)


def test_merged_cells_are_not_recovered():
    sem, inst = _two_touching_cells(separated=False)
    pred = recover_instances(sem)
    assert len(np.unique(pred)) - 1 == 1
    assert count_recovered_instances(inst, pred) == (0, 2)  # IoU of the merged blob with either cell is 0.5


def test_true_masks_recover_nearly_every_generated_cell():
    d = make_cells(8, size=48, seed=2)
    recovered, total = count_recovered_instances(d.instances, recover_instances(d.masks))
    assert total > 30 and recovered >= 0.95 * total
    report = segmentation_report(d.masks, d.masks, 3, d.instances)
    assert report["mean_iou"] == 1.0 and report["cells_recovered"] == recovered
    # everything predicted as background: nothing recovered, IoU of the cell classes 0
    report = segmentation_report(d.masks, np.zeros_like(d.masks), 3, d.instances)
    assert report["cells_recovered"] == 0 and report["per_class_iou"][1] == 0.0
