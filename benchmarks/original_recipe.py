"""The original training recipe, as it was: the yardstick for benchmarks/train_speed.py.

    python benchmarks/original_recipe.py EPOCHS

Keras `model.fit` on flattened numpy arrays, the 784-500-300-100-300-500-784 dense autoencoder,
Adam at its defaults, MSE, batch 200, all 60,000 training images, validating on the 10,000 test
images every epoch. It reads the pipeline's own data/processed/ files, so both recipes see the
same noisy images. Prints one line per epoch (the train stage's own callback), then the test PSNR.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from stages.metrics import psnr_per_image  # noqa: E402
from stages.train import epoch_log  # noqa: E402


def main() -> None:
    epochs = int(sys.argv[1])
    keras.utils.set_random_seed(42)
    with np.load("data/processed/train.npz") as data:
        x_train, x_train_noisy = data["clean"].reshape(-1, 784), data["noisy"].reshape(-1, 784)
    with np.load("data/processed/test.npz") as data:
        x_test, x_test_noisy = data["clean"].reshape(-1, 784), data["noisy"].reshape(-1, 784)

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(500, activation="relu"),
            layers.Dense(300, activation="relu"),
            layers.Dense(100, activation="relu"),
            layers.Dense(300, activation="relu"),
            layers.Dense(500, activation="relu"),
            layers.Dense(784, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        x_train_noisy,
        x_train,
        epochs=epochs,
        batch_size=200,
        shuffle=True,
        validation_data=(x_test_noisy, x_test),
        callbacks=[epoch_log(epochs)],  # the train stage's own per-epoch line, same timing
        verbose=0,
    )
    denoised = model.predict(x_test_noisy, batch_size=1000, verbose=0)
    print(f"psnr {psnr_per_image(x_test, denoised).mean():.4f}", flush=True)


if __name__ == "__main__":
    main()
