"""What each speed lever of the train stage is worth: seconds per epoch with one thing changed.

    python benchmarks/train_levers.py [--epochs 7]

Needs data/processed/. Trains the default dense model the way the train stage does (the same
batches, optimizer, XLA and steps per call, from stages/train.py) in a fresh process per variant,
with one setting changed at a time, and prints each epoch's seconds. The first epoch holds
tracing and compilation.
"""

import argparse
import os
import subprocess
import sys
import time

VARIANTS = {
    "stage": "as the train stage runs",
    "autotune": "tf.data prefetch(AUTOTUNE), autotuner on",
    "no_xla": "jit_compile=False",
    "one_inter_op_thread": "tf.config.threading inter-op threads = 1",
    "no_validation": "no validation pass",
    "one_step_per_call": "steps_per_execution=1",
}


def train(variant: str, epochs: int) -> None:
    """Train in this process with one lever changed; print the seconds of each epoch."""
    import keras
    import numpy as np
    import tensorflow as tf

    from stages.models import build_dense_autoencoder
    from stages.train import STEPS_PER_EXECUTION, batches, make_optimizer, split_train_validation

    if variant == "one_inter_op_thread":
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(42)
    with np.load("data/processed/train.npz") as data:
        clean, noisy = tf.constant(data["clean"]), tf.constant(data["noisy"])
    train_idx, val_idx = split_train_validation(len(clean), 0.1, 42)
    train_batches = batches(noisy, clean, train_idx, 200, 42)
    val_batches = None if variant == "no_validation" else batches(noisy, clean, val_idx, 1000)
    if variant == "autotune":  # what batches() did before: same data, AUTOTUNE prefetch
        order = tf.data.Dataset.from_tensor_slices(train_idx).shuffle(len(train_idx), seed=42)
        train_batches = (
            order.batch(200)
            .map(lambda i: (tf.gather(noisy, i), tf.gather(clean, i)))
            .prefetch(tf.data.AUTOTUNE)
        )
    model = build_dense_autoencoder([500, 300, 100])
    model.compile(
        optimizer=make_optimizer({"learning_rate": 0.001, "epochs": 60}, "cosine", 270),
        loss="mse",
        jit_compile=variant != "no_xla",
        steps_per_execution=1 if variant == "one_step_per_call" else STEPS_PER_EXECUTION,
    )
    marks = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: marks.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: marks.append(time.perf_counter()),
    )
    model.fit(
        train_batches, validation_data=val_batches, epochs=epochs, verbose=0, callbacks=[timer]
    )
    seconds = [end - start for start, end in zip(marks[::2], marks[1::2], strict=True)]
    print(" ".join(f"{s:.2f}" for s in seconds), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.variant:
        train(args.variant, args.epochs)
        return
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.getcwd()}
    print("| variant | seconds per epoch (first, then the others) |")
    print("|---|---|")
    for variant, description in VARIANTS.items():
        result = subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--epochs", str(args.epochs)],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"error: variant {variant} failed:\n{result.stderr[-2000:]}")
        print(f"| {description} | {result.stdout.strip()} |", flush=True)


if __name__ == "__main__":
    main()
