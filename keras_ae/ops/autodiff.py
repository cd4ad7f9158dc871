"""Derivatives with respect to a network's *input*, differentiable in its weights, on TensorFlow, torch and JAX.

Keras' trainers take gradients with respect to weights on every backend; these take them with respect to inputs,
for penalties that are trained through (the WGAN-GP gradient penalty, the contractive autoencoder's Jacobian).
"""

import keras
from keras import ops


def input_gradient(fn, x):
    """``d sum(fn(x)) / dx``, itself differentiable (for gradient penalties), on every backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            out = ops.sum(fn(x))
        return tape.gradient(out, x)
    if backend == "torch":
        import torch

        x = x.detach().requires_grad_(True) if not x.requires_grad else x
        out = ops.sum(fn(x))
        (grad,) = torch.autograd.grad(out, x, create_graph=True)
        return grad
    if backend == "jax":
        import jax

        return jax.grad(lambda t: ops.sum(fn(t)))(x)
    raise NotImplementedError(
        f"Input gradients are implemented for the tensorflow, torch and jax backends; got {backend!r}."
    )


def jacobian_frobenius_sq(fn, x):
    """Per-example ``||d fn(x) / d x||_F^2`` by automatic differentiation, differentiable in the weights.

    ``fn`` maps a batch ``(n, ...)`` to codes ``(n, d)`` example by example (no batch coupling).
    One reverse pass per code unit (d passes) on TensorFlow, JAX and torch, each keeping the graph
    so the penalty (the contractive autoencoder's) can be trained.
    """
    backend = keras.backend.backend()
    x = ops.convert_to_tensor(x)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            h = fn(x)
            units = [tf.reduce_sum(h[:, j]) for j in range(h.shape[-1])]
        total = 0.0
        for u in units:
            g = tape.gradient(u, x)
            total = total + tf.reduce_sum(tf.reshape(tf.square(g), (tf.shape(g)[0], -1)), axis=-1)
        del tape
        return total
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        h, vjp = jax.vjp(fn, x)
        total = 0.0
        for j in range(h.shape[-1]):
            (g,) = vjp(jnp.zeros_like(h).at[:, j].set(1.0))
            total = total + jnp.sum(jnp.reshape(jnp.square(g), (g.shape[0], -1)), axis=-1)
        return total
    if backend == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            h = fn(x)
            total = 0.0
            for j in range(h.shape[-1]):
                (g,) = torch.autograd.grad(h[:, j].sum(), x, create_graph=True)
                total = total + torch.square(g).reshape(g.shape[0], -1).sum(dim=-1)
        return total
    raise NotImplementedError(f"The contractive penalty by autodiff is not implemented for backend {backend!r}.")


def input_vjp(fn, x):
    """``(fn(x), vjp)`` with ``vjp(w) = w^T d fn(x) / dx`` (per example for batched ``fn``), on every backend.

    The products stay differentiable in the weights of ``fn`` (and in ``x``) wherever gradients are being
    recorded, so a loss built from them can be trained; ``fn`` is evaluated once for any number of products.
    Like :func:`input_gradient`, but for arbitrary cotangents ``w`` that must not be differentiated through ``fn``
    themselves (the invertible residual block's power-series log-determinant).
    """
    backend = keras.backend.backend()
    x = ops.convert_to_tensor(x)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = fn(x)
        return y, lambda w: tape.gradient(y, x, output_gradients=w)
    if backend == "torch":
        import torch

        record = torch.is_grad_enabled()  # False under Keras' evaluate/predict: products needed, no graph kept
        with torch.enable_grad():
            xg = x if x.requires_grad else x.detach().requires_grad_(True)
            y = fn(xg)

        def vjp(w):
            with torch.enable_grad():
                (g,) = torch.autograd.grad(y, xg, grad_outputs=w, create_graph=record, retain_graph=True)
            return g

        return y, vjp
    if backend == "jax":
        import jax

        y, pullback = jax.vjp(fn, x)
        return y, lambda w: pullback(w)[0]
    raise NotImplementedError(f"Vector-Jacobian products are implemented for the tensorflow, torch and jax "
                              f"backends; got {backend!r}.")
