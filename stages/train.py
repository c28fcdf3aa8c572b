"""Train the denoiser on noisy training images and save models/model.keras.

What it learns to output is train.target: the clean image, or, from noisy images alone, a second
noisy copy (Noise2Noise) or the masked pixels themselves (Noise2Void), see stages/targets.py.
stages/examples.py gives the batches: a built-in set's noisy and clean images, with a held-out slice
of them (train.validation_fraction) for validation; for `dataset: images`, new crops of the training
photos every epoch (with new noise, for target clean), flipped, turned and with their colour
channels reordered at random (images.flips, images.channel_orders; stages/augment.py says why). The
test set is read only by evaluate. Per-epoch losses go to DVC Live (metrics/train/), which `dvc
plots show` draws. Everything random is seeded by `seed`, so the same params give the same model
file, byte for byte, on the same kind of machine. A train that was killed resumes from its last
finished epoch when run again, to the same model file (stages/resume.py).
"""

import json
import sys
import time
import zipfile
from pathlib import Path

from stages import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras
    import tensorflow as tf

import numpy as np
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from stages.datasets import TRAIN_DATA
from stages.examples import training_data
from stages.models import MODEL_PATH, build_model, deepest_unet, receptive_field, smallest_side
from stages.outputs import write_all_atomic
from stages.params import PARAMS_FILE, load_params
from stages.resume import (
    fingerprint,
    keep_snapshots,
    last_snapshot,
    remove_backup,
    restore_curves,
    restore_weights,
)
from stages.runner import StageError, check_unchanged, run_stage

LIVE_DIR = "metrics/train"
STEPS_PER_EXECUTION = 50  # fewer Python round trips per epoch; same maths
MAX_BATCH_PIXELS = 1 << 22  # a U-Net keeps its activations per pixel for the gradients


def make_optimizer(recipe: dict, schedule: str, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam at the model's learning rate, constant or cosine-decayed to 0 over the whole run."""
    learning_rate = recipe["learning_rate"]
    if schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=recipe["epochs"] * steps_per_epoch
        )
    return keras.optimizers.Adam(learning_rate)


def cpu_has_bfloat16() -> bool:
    """Whether this machine's CPU multiplies bfloat16 natively (AVX512_BF16 or AMX), read from
    /proc/cpuinfo's flags; elsewhere bfloat16 would be emulated, slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def distribution_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy that train.distribute names.

    default: one device. mirrored: a replica on every local GPU (on a machine without GPUs, on
    every logical CPU device). The batch size is always the global one, split evenly across
    replicas. There is no multi-machine choice: Keras 3's model.fit cannot train under
    MultiWorkerMirroredStrategy (keras-team/keras#20585; with Keras 3.15 both workers fail in
    their first step, reducing the batch and then the scalar loss across workers).
    """
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return tf.distribute.get_strategy()


def epoch_log(epochs: int) -> keras.callbacks.Callback:
    """One line per epoch, for logs: `epoch 3/60: 3.04 s, loss 0.01234, val_loss 0.01210`.

    Keras's own per-epoch line rounds the time to whole seconds; the speed benchmark
    (benchmarks/train_speed.py) reads these lines.
    """
    started = {}

    def begin(epoch: int, logs: dict) -> None:
        started["at"] = time.perf_counter()

    def end(epoch: int, logs: dict) -> None:
        seconds = time.perf_counter() - started["at"]
        losses = ", ".join(f"{name} {value:.5f}" for name, value in logs.items() if "loss" in name)
        print(f"epoch {epoch + 1}/{epochs}: {seconds:.2f} s, {losses}", flush=True)

    return keras.callbacks.LambdaCallback(on_epoch_begin=begin, on_epoch_end=end)


def stop_on_non_finite_loss() -> keras.callbacks.Callback:
    """End training with one line, saving nothing, once the loss is NaN or infinite.

    No later step can undo that. It is checked after every call into TensorFlow and before DVC
    Live records the epoch, so no NaN ever reaches the training metrics either. Written here
    because keras.callbacks.TerminateOnNaN looks at the training loss only, not val_loss.
    """
    epoch_now = {}

    def begin(epoch: int, logs: dict) -> None:
        epoch_now["epoch"] = epoch + 1

    def check(step: int, logs: dict) -> None:
        losses = {k: v for k, v in logs.items() if "loss" in k}
        if not np.all(np.isfinite(list(losses.values()))):
            found = ", ".join(f"{k} {v}" for k, v in losses.items())
            raise StageError(
                f"train: the loss is no longer a finite number in epoch "
                f"{epoch_now['epoch']} ({found}); no model was saved. Lower the learning "
                "rate (params.yaml)."
            )

    return keras.callbacks.LambdaCallback(
        on_epoch_begin=begin, on_train_batch_end=check, on_epoch_end=check
    )


def check_not_collapsed(val_loss: float, black_loss: float) -> None:
    """Fail loudly if the model ended up no better than predicting a black image.

    A sigmoid-output model trained with MSE can get stuck there (every pixel ~0, loss ~0.11 on
    MNIST); saving it would produce a metric that looks like a result. The residual
    convolutional models start from the identity, which makes this practically impossible for
    them. Where the batches carry a mask, both losses are taken at the masked pixels.
    """
    if val_loss > 0.9 * black_loss:
        raise StageError(
            f"train: the model collapsed: its validation loss {val_loss:.4f} is about "
            f"that of predicting a black image ({black_loss:.4f}); no model was saved. "
            "Lower the learning rate or train longer (params.yaml)."
        )


def black_loss(validation: tf.data.Dataset, loss: str) -> float:
    """The loss of predicting a black image for every validation example (at the masked pixels
    alone, where the batches carry a mask)."""
    total, count = 0.0, 0.0
    for _, target, *mask in validation:
        pixel_losses = keras.losses.get(loss)(target, tf.zeros_like(target)).numpy()
        weights = mask[0].numpy() if mask else np.ones_like(pixel_losses)
        total += float((pixel_losses * weights).sum(dtype=np.float64))
        count += float(weights.sum(dtype=np.float64))
    return total / count


def training_loss(train: dict) -> str | keras.losses.Loss:
    """train.loss; for blind_spot, averaged over the masked pixels alone (the batches' third
    element weighs each pixel), as Noise2Void's loss is."""
    if train["target"] != "blind_spot":
        return train["loss"]
    kind = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}
    return kind[train["loss"]](reduction="mean_with_sample_weight")


def check_model_fits(params: dict, model: keras.Model, image_shape: tuple[int, ...]) -> None:
    """StageError, before any training, if this model cannot train on these images.

    The dense model knows one image size, and `dataset: images` is scored on whole images of
    any size. A U-Net needs images of at least its smallest_side (models.py). And a batch must
    fit in memory: at most MAX_BATCH_PIXELS pixels.
    """
    name, height, width = params["model"], image_shape[0], image_shape[1]
    if name == "dense" and params["dataset"] == "images":
        raise StageError(
            "params.yaml: model dense knows only one image size, but dataset images is "
            "scored on whole images of any size; use model=unet or model=dncnn"
        )
    if min(height, width) < smallest_side(model):
        _, alignment = receptive_field(model)
        raise StageError(
            f"params.yaml: unet.depth {params['unet']['depth']} needs the images padded to a "
            f"multiple of {alignment} pixels, more than reflecting these {height}x{width} images "
            f"can add; use unet.depth <= {deepest_unet(min(height, width))}"
        )
    batch_size = params[name]["batch_size"]
    if batch_size * height * width > MAX_BATCH_PIXELS:
        raise StageError(
            f"params.yaml: a batch of {batch_size} images of {height}x{width} is "
            f"{batch_size * height * width:,} pixels, more than the {MAX_BATCH_PIXELS:,} that fit "
            f"in memory here; lower {name}.batch_size (or images.crop_size)"
        )


def renumber_shared_objects(config: object, ids: dict[int, int]) -> None:
    """Replace Keras's `shared_object_id`s (memory addresses) by 1, 2, ... as they appear."""
    if isinstance(config, dict):
        if "shared_object_id" in config:
            config["shared_object_id"] = ids.setdefault(config["shared_object_id"], len(ids) + 1)
        for value in config.values():
            renumber_shared_objects(value, ids)
    elif isinstance(config, list):
        for value in config:
            renumber_shared_objects(value, ids)


def save_model(model: keras.Model, path: str | Path) -> None:
    """Save as .keras, with the same bytes whenever the weights are the same.

    Keras stamps the save time and memory addresses into the archive; left in, every re-run would
    change the model's hash in dvc.lock (and re-run evaluate) even when training reproduced the
    weights bit for bit.
    """

    def write(tmp: Path) -> None:
        model.save(tmp)
        with zipfile.ZipFile(tmp) as archive:
            members = [(info, archive.read(info)) for info in archive.infolist()]
        with zipfile.ZipFile(tmp, "w") as archive:
            for info, data in members:
                if info.filename.endswith(".json"):
                    content = json.loads(data)
                    content.pop("date_saved", None)  # metadata.json
                    renumber_shared_objects(content, {})  # config.json
                    data = json.dumps(content).encode()
                info.date_time = (1980, 1, 1, 0, 0, 0)
                archive.writestr(info, data)

    write_all_atomic({path: write})


def main() -> None:
    params = load_params()
    train = params["train"]
    recipe = params[params["model"]]  # the chosen model's epochs, batch size, learning rate
    seed = params["seed"]
    keras.utils.set_random_seed(seed)
    precision = train["precision"]
    keras.mixed_precision.set_global_policy(precision)  # float32, or mixed_bfloat16
    if tf.config.list_physical_devices("GPU"):
        # GPU kernels need TF's deterministic mode to be reproducible (Keras then runs without
        # XLA). On CPU, XLA-compiled training is already bit-for-bit reproducible, and faster.
        tf.config.experimental.enable_op_determinism()

    imported = (Path(m.__file__) for n, m in sys.modules.items() if n.startswith("stages."))
    code = sorted({Path(__file__).resolve(), *(p.resolve() for p in imported)})
    made_for = fingerprint(params, Path(TRAIN_DATA), *code)  # what this train runs on
    epochs_done, snapshot = last_snapshot(made_for)
    data = training_data(params, first_epoch=epochs_done)

    strategy = distribution_strategy(train["distribute"])
    # Under a distribution strategy, XLA cannot reach variables placed on other devices, and
    # Keras 3.15's multi-step loop fails ("You must feed a value for placeholder tensor"): there,
    # training runs uncompiled, one step per call. `auto` compiles with XLA in float32 only: in
    # bfloat16, TensorFlow's own (oneDNN) kernels train faster (docs/speed.md).
    single_device = train["distribute"] == "default"
    xla = single_device and (
        train["compile"] == "xla" or (train["compile"] == "auto" and precision == "float32")
    )
    with strategy.scope():  # variables live on every replica
        model = build_model(params, data.image_shape)
        check_model_fits(params, model, data.image_shape)
        model.compile(
            optimizer=make_optimizer(recipe, train["lr_schedule"], data.steps_per_epoch),
            loss=training_loss(train),
            jit_compile=xla,
            steps_per_execution=STEPS_PER_EXECUTION if single_device else 1,
        )
    print(
        f"train: {params['model']} model, {model.count_params():,} parameters, "
        f"{data.train_count} train / {data.validation_count} validation images, "
        f"{recipe['epochs']} epochs, "
        f"{strategy.num_replicas_in_sync} replica(s), {precision}"
        + (
            " (emulated: this CPU has no bfloat16 instructions)"
            if precision != "float32" and not cpu_has_bfloat16()
            else ""
        )
        + (", XLA" if xla else ""),
        flush=True,
    )
    if snapshot:
        print(f"train: resuming after epoch {epochs_done} from {snapshot}", flush=True)
        restore_curves(snapshot, LIVE_DIR)
    callbacks = [
        stop_on_non_finite_loss(),
        # another `dvc exp run` rewriting params.yaml ends this one now, not after the last epoch
        keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: check_unchanged()),
        DVCLiveCallback(
            live=Live(LIVE_DIR, dvcyaml=None, save_dvc_exp=False, resume=bool(snapshot))
        ),
    ]
    if snapshot:
        callbacks.append(restore_weights(model, snapshot))
    if not sys.stdout.isatty():  # a live bar in a terminal, a line per epoch in a log
        callbacks.append(epoch_log(recipe["epochs"]))
    callbacks.append(keep_snapshots(model, LIVE_DIR, made_for))  # after DVC Live's epoch
    history = model.fit(
        data.train,
        validation_data=data.validation,
        epochs=recipe["epochs"],
        initial_epoch=epochs_done,
        shuffle=False,  # the batches are drawn anew every epoch already
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 0,
    )
    # killed after its last epoch's snapshot, a run resumes with no epoch left to train
    val_loss = (
        history.history["val_loss"][-1]
        if history.history
        else model.evaluate(data.validation, verbose=0)
    )
    check_not_collapsed(val_loss, black_loss(data.validation, train["loss"]))
    save_model(model, MODEL_PATH)
    remove_backup()


if __name__ == "__main__":
    run_stage(main, reads=[PARAMS_FILE, TRAIN_DATA])
