"""AdamW with a linear warm-up and decay, on JAX pytrees (a dozen lines
that need no optimiser library)."""

import jax
import jax.numpy as jnp


def init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.int32)}


def schedule(step, peak, warmup, total):
    step = step.astype(jnp.float32)
    up = step / jnp.maximum(warmup, 1)
    down = (total - step) / jnp.maximum(total - warmup, 1)
    return peak * jnp.clip(jnp.minimum(up, down), 0.0, 1.0)


def update(params, grads, state, lr, weight_decay=0.01, b1=0.9, b2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1 = 1 - b1 ** t.astype(jnp.float32)
    c2 = 1 - b2 ** t.astype(jnp.float32)
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - lr * (m / c1 / (jnp.sqrt(v / c2) + eps) + weight_decay * p * (p.ndim > 1)),
        params,
        m,
        v,
    )
    return params, {"m": m, "v": v, "t": t}
