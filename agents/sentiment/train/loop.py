"""The training loop both trainings share: seeded shuffled batches trimmed
of unused padding, AdamW, and after every epoch the macro-F1 on the tune
rows; the best epoch's parameters win."""

import time

import jax
import jax.numpy as jnp
import numpy as np

import data
import model
import optim


def add_training_args(ap, epochs, lr, out):
    """The arguments every training takes (teacher.py, distil.py)."""
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=data.MAX_LEN)
    ap.add_argument("--limit", type=int, default=0, help="use only this many fit rows (smoke test)")
    ap.add_argument("--seed", type=int, default=data.SEED)
    ap.add_argument("--out", default=out)


def batches(n, size, rng):
    order = rng.permutation(n)
    for i in range(0, n, size):
        yield order[i : i + size]


def trim(ids, mask):
    """Cut the padding columns no row of the batch uses (to a multiple of 8,
    so a handful of shapes are compiled)."""
    used = int(mask.sum(1).max())
    width = min(ids.shape[1], ((used + 7) // 8) * 8)
    return ids[:, :width], mask[:, :width]


def predict(params, ids, mask, heads, size=256):
    """Class probabilities, no dropout."""
    f = jax.jit(lambda p, i, m: jax.nn.softmax(model.logits(p, i, m, heads, None, 0.0)))
    out = []
    for s in range(0, len(ids), size):
        i, m = trim(ids[s : s + size], mask[s : s + size])
        out.append(np.asarray(f(params, jnp.asarray(i), jnp.asarray(m))))
    return np.concatenate(out)


def train(params, loss, ids, mask, y, per_row, fit, tune, heads, epochs, batch, lr, warmup_fraction, seed):
    """Minimise `loss(params, ids, mask, *per_row[rows], key)` over the fit
    rows; return the parameters of the epoch with the best tune macro-F1,
    and that F1."""
    state = optim.init(params)
    steps = epochs * ((len(fit) + batch - 1) // batch)
    warmup = max(int(steps * warmup_fraction), 1)

    @jax.jit
    def step(p, s, i, m, extra, key):
        v, g = jax.value_and_grad(loss)(p, i, m, *extra, key)
        p, s = optim.update(p, g, s, optim.schedule(s["t"], lr, warmup, steps))
        return p, s, v

    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    best, best_params = -1.0, params
    for epoch in range(epochs):
        t0, losses = time.time(), []
        for b in batches(len(fit), batch, rng):
            rows = fit[b]
            i, m = trim(ids[rows], mask[rows])
            key, sub = jax.random.split(key)
            extra = tuple(jnp.asarray(a[rows]) for a in per_row)
            params, state, v = step(params, state, jnp.asarray(i), jnp.asarray(m), extra, sub)
            losses.append(float(v))
        probs = predict(params, ids[tune], mask[tune], heads)
        f1 = data.macro_f1(y[tune], probs.argmax(1))
        acc = float((probs.argmax(1) == y[tune]).mean())
        print(
            f"epoch {epoch + 1}: loss {np.mean(losses):.4f}, tune accuracy {acc:.4f}, macro-F1 {f1:.4f} ({time.time() - t0:.0f} s)",
            flush=True,
        )
        if f1 > best:
            best, best_params = f1, params
    return best_params, best


def save(path, params, **extra):
    """The parameters (flattened, in pytree order) and `extra` as .npz."""
    import os

    flat, _ = jax.tree_util.tree_flatten(params)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez(path, **extra, **{f"p{n}": np.asarray(x) for n, x in enumerate(flat)})


def load(path, like):
    """Parameters saved by `save`, in the shape of the pytree `like`."""
    _, tree = jax.tree_util.tree_flatten(like)
    z = np.load(path)
    n = tree.num_leaves
    return jax.tree_util.tree_unflatten(tree, [jnp.asarray(z[f"p{i}"]) for i in range(n)])
