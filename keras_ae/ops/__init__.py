"""Backend-specific code, once. Everything else in keras_ae is plain ``keras.ops``.

- :mod:`keras_ae.ops.autodiff`: gradients and Jacobians with respect to a network's *input* (gradient penalties,
  contractive penalties), on TensorFlow, torch and JAX.
- :mod:`keras_ae.ops.backend_call`: a public ``forward`` method on Keras layers and models under torch
  (whose ``nn.Module.__call__`` would otherwise claim the name), and graph compilation of plain functions.
- :mod:`keras_ae.ops.arrays`: numpy and ``tf.data`` in, numpy out: batched inference helpers for user methods.
- :mod:`keras_ae.ops.distribute`: more than one device: loss scaling per replica, per-replica noise, state combined
  across replicas, and the strategies behind ``--distribute``.

The two-player training step of the GANs branches on the backend too; it is the GAN family's own code
(:mod:`keras_ae.models.gan.gan_trainer`). ``tf.data`` pipelines (which run on TensorFlow whatever the Keras backend)
are built in :mod:`keras_ae.data`.
"""

from keras_ae.ops.arrays import batched, dataset_arrays, is_tf_dataset, to_numpy  # noqa: F401
from keras_ae.ops.autodiff import input_gradient, input_vjp, jacobian_frobenius_sq  # noqa: F401
from keras_ae.ops.backend_call import TorchSafeForward, graph_function  # noqa: F401
from keras_ae.ops.distribute import (  # noqa: F401
    ReplicaSeedGenerator,
    cross_replica_concat,
    cross_replica_sum,
    num_replicas,
    scale_loss_for_distribution,
    strategy_scope,
)
