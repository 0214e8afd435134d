"""A small MLP trained from Python through kiln.core, written as for
mlx.core: fits y = x^2 on [-1, 1] with one tanh hidden layer, full-batch
SGD, the loss and its gradients from mx.value_and_grad, the step compiled
with mx.compile. Prints the loss as it falls (the same loop as
examples/c_mlp.c).

Run from a build tree:  PYTHONPATH=build/python /usr/bin/python3 examples/python/mlp.py
or from an install:     PYTHONPATH=$PREFIX/lib/python3/dist-packages /usr/bin/python3 mlp.py
"""
import kiln.core as mx

N, HIDDEN, STEPS, LR = 64, 16, 300, 0.2


def loss_fn(params, x, y):
    h = mx.tanh(x @ params["w1"] + params["b1"])
    return mx.mean(mx.square(h @ params["w2"] + params["b2"] - y))


def main():
    key = mx.random.key(0)
    k1, k2 = mx.random.split(key)
    x = mx.random.uniform(-1.0, 1.0, (N, 1), key=k1)
    y = mx.square(x)
    params = {
        "w1": mx.random.normal((1, HIDDEN), scale=0.5, key=k2),
        "b1": mx.zeros((HIDDEN,)),
        "w2": mx.random.normal((HIDDEN, 1), scale=0.5, key=k1),
        "b2": mx.zeros((1,)),
    }
    value_and_grad = mx.value_and_grad(loss_fn)

    @mx.compile
    def step(params, x, y):
        loss, grads = value_and_grad(params, x, y)
        return loss, {k: params[k] - LR * grads[k] for k in params}

    first = None
    for i in range(STEPS):
        loss, params = step(params, x, y)
        mx.eval(loss, params)
        first = loss.item() if first is None else first
        if i % 50 == 0 or i == STEPS - 1:
            print(f"step {i:3d}  loss {loss.item():.5f}")
    if not loss.item() < first / 4:
        raise SystemExit("the loss did not fall")


if __name__ == "__main__":
    main()
