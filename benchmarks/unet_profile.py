"""Where the U-Net's training time goes: FLOPs and measured speed of each convolution.

    python benchmarks/unet_profile.py [--batch-size 64]

Builds the U-Net of params.yaml, counts the multiply-adds of every convolution on a 28x28 image,
then times one training step of each convolution alone (forward and both gradients, XLA, the
shapes it has inside the model) and of the whole model. numpy's float32 matrix product on the
same cores is the yardstick for what the CPU can do. Prints Markdown tables for docs/speed.md.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402

from stages.models import build_unet  # noqa: E402


def seconds_per_call(function, *args, repeats: int = 20) -> float:
    """Median wall time of `function(*args)`, after two warm-up calls (tracing, compiling)."""
    for _ in range(2):
        function(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sgemm_gflops(n: int = 2048) -> float:
    a, b = np.ones((n, n), np.float32), np.ones((n, n), np.float32)
    return 2 * n**3 / seconds_per_call(np.matmul, a, b, repeats=5) / 1e9


def conv_train_step(layer: keras.layers.Conv2D, shape: tuple) -> tuple[float, float]:
    """(training FLOPs, seconds) of one step of this convolution alone on a batch of `shape`."""
    conv = keras.layers.Conv2D.from_config(layer.get_config())
    conv.build(shape)
    x = tf.random.uniform(shape)

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(conv(x))
        return tape.gradient(loss, [x, *conv.trainable_variables])

    k = conv.kernel_size[0] * conv.kernel_size[1]
    forward = 2 * k * shape[-1] * conv.filters * shape[0] * shape[1] * shape[2]
    return 3 * forward, seconds_per_call(step, x)  # forward, input gradient, weight gradient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=64)
    batch = parser.parse_args().batch_size
    section = yaml.safe_load(Path("params.yaml").read_text())["unet"]
    model = build_unet(section["depth"], section["filters"], section["batch_norm"])
    probe = keras.Model(
        model.inputs,
        [layer.input for layer in model.layers if isinstance(layer, keras.layers.Conv2D)],
    )
    inputs = probe.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]

    print(f"sgemm (numpy, float32, 2048^2): {sgemm_gflops():.0f} GFLOP/s\n")
    print(
        "| convolution | input | filters | training MFLOP/image | "
        f"ms/step (batch {batch}) | GFLOP/s |"
    )
    print("|---|---|---:|---:|---:|---:|")
    total_flops = total_seconds = 0.0
    for layer, x in zip(convs, inputs, strict=True):
        shape = (batch, *x.shape[1:])
        flops, seconds = conv_train_step(layer, shape)
        total_flops, total_seconds = total_flops + flops, total_seconds + seconds
        print(
            f"| {layer.name} | {x.shape[1]}x{x.shape[2]}x{x.shape[3]} | {layer.filters} | "
            f"{flops / batch / 1e6:.1f} | {seconds * 1e3:.1f} | {flops / seconds / 1e9:.0f} |"
        )
    print(
        f"| all convolutions | | | {total_flops / batch / 1e6:.1f} | {total_seconds * 1e3:.1f} | "
        f"{total_flops / total_seconds / 1e9:.0f} |"
    )

    model.compile(optimizer="adam", loss="mse", jit_compile=True, steps_per_execution=10)
    data = np.random.default_rng(0).random((batch * 20, 28, 28, 1), dtype=np.float32)

    def one_epoch() -> None:
        model.fit(data, data, batch_size=batch, epochs=1, verbose=0)

    seconds = seconds_per_call(one_epoch, repeats=3) / 20
    print(
        f"\nwhole U-Net training step: {seconds * 1e3:.1f} ms for {batch} images = "
        f"{batch / seconds:.0f} images/s; convolutions alone {total_seconds / seconds:.0%} of it, "
        f"{total_flops / seconds / 1e9:.0f} GFLOP/s overall"
    )


if __name__ == "__main__":
    main()
