"""A peer benchmark: CAREamics' Noise2Void on CPU, trained on noisy images only, scored as evaluate.

    python3 -m venv ../careamics-venv                    # a venv of its own, never the project's
    ../careamics-venv/bin/pip install careamics==0.3.5   # and torch 2.11.0 from PyPI
    ../careamics-venv/bin/python benchmarks/careamics_peer.py \\
        --train TRAIN.npz --test TEST.npz --minutes 10 [--epochs E] [--patch P] [--batch 128] \\
        [--seed 42] [--mosaic K] [--out results.json]

TRAIN.npz holds `noisy`, float32 (N, H, W, C) with C = 1 or 3: the noisy training images only, no
clean ones, as the project's preprocess writes them for a self-supervised train.target (unclipped
with train.raw_targets, as N2V's raw data is). TEST.npz holds `clean` and `noisy`, float32 (M, H, W,
C) in [0, 1]. It imports neither TensorFlow nor the project's `stages`, and it hides any GPU: CPU
only, torch on 2 threads.

CAREamics' `create_advanced_n2v_config` builds the configuration with its N2V defaults: a U-Net
of depth 2 with 32 first-level features and batch norm, MSE on the masked pixels only, 0.2 % of
each patch's pixels masked (a stratified grid), each replaced by a pixel of its 11 x 11
neighbourhood outside its own row and column, Adam at 1e-3 with ReduceLROnPlateau, x/y flips and
90-degree rotations, per-channel mean/std normalisation from the training data, 8 training
patches held out for validation. Ours are only the name, patch and batch size, seed, CPU and the
limits. --patch (square, a multiple of 4) defaults to the largest side within both 64 and the
training images (28 for 28 x 28 images); CAREamics refuses a patch where fewer than one masked
pixel is expected, so at 0.2 % the smallest side is 24 (16 is refused). Axes are SYX for gray,
SYXC for colour: CAREamics then trains an independent network per channel (grouped convolutions)
and masks each channel apart. Training stops after --epochs epochs or after --minutes of
Lightning's `max_time` (its Timer callback, checked after every step), whichever comes first;
without --epochs only the time limits it. The final weights are saved and predicted with (N2V's
default "last" checkpoint is only rewritten every 10 epochs), each test image whole, or tiled with
CAREamics' default 48-pixel overlap when a side is not a multiple of 4, brought back to the [0, 1]
scale by CAREamics' own denormalisation, then clipped to [0, 1]. PSNR is 10*log10(1/mse) per
image, data range 1, then the mean over images, as the project's evaluate stage scores it (an mse
of 0 counts as 100 dB). Prints one line per epoch, then the result as JSON, also written to --out.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

MAX_PSNR = 100.0  # dB: what stages/metrics.py scores a perfect image
DEPTH = 2  # CAREamics' default U-Net depth: sides must be multiples of 2**DEPTH
TILE = 128  # tile side, only for test images whose sides are not multiples of 2**DEPTH
TILE_OVERLAP = 48  # CAREamics' default tile overlap


def fail(message: str) -> NoReturn:
    sys.exit(f"error: {message}")


def psnr_per_image(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """PSNR in dB of each image (first axis), data range 1, as stages/metrics.py computes it."""
    diff = clean.reshape(len(clean), -1).astype(np.float64) - estimate.reshape(len(clean), -1)
    mse = np.mean(diff * diff, axis=1)
    return -10.0 * np.log10(np.maximum(mse, 10 ** (-MAX_PSNR / 10)))


def load_images(path: Path, keys: tuple[str, ...], unit: bool = True) -> dict[str, np.ndarray]:
    """The float32 (N, H, W, C) arrays `keys` of an .npz file, checked (within [0, 1] if
    `unit`); exits on a bad file."""
    if not path.is_file():
        fail(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        with np.load(path) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                fail(f"{path}: no array {', '.join(missing)} (it holds {archive.files})")
            arrays = {key: archive[key] for key in keys}
    except (OSError, ValueError):
        fail(f"{path}: not a readable .npz file")
    for key, array in arrays.items():
        if array.ndim != 4 or array.shape[-1] not in (1, 3) or len(array) == 0:
            fail(f"{path}: `{key}` has shape {array.shape}, not (N, H, W, C) with C 1 or 3")
        if not np.issubdtype(array.dtype, np.floating):
            fail(f"{path}: `{key}` is {array.dtype}, not float")
        if not np.isfinite(array).all():
            fail(f"{path}: `{key}` holds values that are not finite")
        if unit and not (array.min() >= 0 and array.max() <= 1):
            fail(f"{path}: `{key}` is not within [0, 1]")
        arrays[key] = array.astype(np.float32, copy=False)
    return arrays


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.error = fail  # type: ignore[method-assign]  # one line, no usage block
    parser.add_argument("--train", type=Path, required=True, help=".npz with `noisy`")
    parser.add_argument("--test", type=Path, required=True, help=".npz with `clean`, `noisy`")
    parser.add_argument("--minutes", type=float, required=True, help="training wall-time cap")
    parser.add_argument("--epochs", type=int, help="epoch cap (default: none, time only)")
    parser.add_argument("--patch", type=int, help="square patch side (default: up to 64)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--mosaic", type=int, default=1, help="train on K x K training images tiled into one"
    )
    parser.add_argument("--out", type=Path, help="write the result JSON here too")
    args = parser.parse_args()
    if not (math.isfinite(args.minutes) and args.minutes > 0):
        fail("--minutes must be a positive number")
    if args.epochs is not None and args.epochs < 1:
        fail("--epochs must be at least 1")
    if args.mosaic < 1:
        fail("--mosaic must be at least 1")
    if args.batch < 1:
        fail("--batch must be at least 1")
    if args.seed < 1:
        fail("--seed must be at least 1 (CAREamics' seeds are positive)")
    if args.patch is not None and (args.patch < 8 or args.patch % 2**DEPTH):
        fail(f"--patch must be a multiple of {2**DEPTH} and at least 8 (CAREamics' U-Net)")
    if args.out is not None and not args.out.parent.is_dir():
        fail(f"--out: folder {args.out.parent} does not exist")
    return args


def mosaics(images: np.ndarray, k: int) -> np.ndarray:
    """Each k * k images tiled k x k into one (the last n mod k*k left out). CAREamics 0.3.5
    sets its validation patches aside with a recount over every image for each image
    (careamics/dataset/factory/val_split.py), which for 60,000 MNIST images did not end within
    10 minutes. MNIST's margins are black, so its seams are black on black. The mosaics' larger
    side also raises the default patch (28 for MNIST alone) to 64."""
    n, height, width, channels = images.shape
    m = n // (k * k)
    tiled = images[: m * k * k].reshape(m, k, k, height, width, channels)
    return tiled.transpose(0, 1, 3, 2, 4, 5).reshape(m, k * height, k * width, channels)


def epoch_printer(start: list[float]) -> Any:
    """A Lightning callback printing one line per finished training epoch."""
    from lightning.pytorch.callbacks import LambdaCallback

    def print_epoch(trainer: Any, _module: Any) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        losses = ", ".join(
            f"{name} {metrics[name]:.4f}"
            for name in ("train_loss_epoch", "val_loss")
            if name in metrics
        )
        partial = (
            " (partial: time is up)" if trainer.global_step % trainer.num_training_batches else ""
        )
        print(
            f"epoch {trainer.current_epoch + 1}{partial}: {time.perf_counter() - start[0]:.1f} s,"
            f" {trainer.global_step} steps, {losses}",
            flush=True,
        )

    return LambdaCallback(
        on_train_start=lambda *_: start.__setitem__(0, time.perf_counter()),
        on_train_epoch_end=print_epoch,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    noisy_train = mosaics(load_images(args.train, ("noisy",), unit=False)["noisy"], args.mosaic)
    if len(noisy_train) == 0:
        fail(f"--mosaic {args.mosaic}: fewer than {args.mosaic**2} training images")
    test = load_images(args.test, ("clean", "noisy"))
    if test["clean"].shape != test["noisy"].shape:
        fail(f"{args.test}: clean {test['clean'].shape} and noisy {test['noisy'].shape} differ")
    channels = noisy_train.shape[-1]
    if test["noisy"].shape[-1] != channels:
        fail(f"train has {channels} channels, test {test['noisy'].shape[-1]}")
    side = min(noisy_train.shape[1:3])
    if args.patch is None:
        args.patch = min(64, side) // 2**DEPTH * 2**DEPTH
    if side < args.patch:
        fail(f"--patch {args.patch} is larger than the training images {noisy_train.shape[1:3]}")

    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU only, even on a GPU machine
    import careamics
    import torch
    from careamics import CAREamist
    from careamics.config import create_advanced_n2v_config
    from lightning.pytorch import seed_everything

    torch.set_num_threads(2)
    axes = "SYX" if channels == 1 else "SYXC"
    squeeze = (lambda a: a[..., 0]) if channels == 1 else (lambda a: a)
    try:
        config = create_advanced_n2v_config(
            experiment_name="careamics_peer",
            data_type="array",
            axes=axes,
            patch_size=[args.patch, args.patch],
            batch_size=args.batch,
            num_epochs=args.epochs if args.epochs is not None else -1,  # -1: no epoch cap
            n_channels=channels if channels > 1 else None,
            trainer_params={
                "accelerator": "cpu",
                "devices": 1,
                "max_time": {"seconds": max(1, round(args.minutes * 60))},
            },
            seed=args.seed,
        )
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        errors = getattr(error, "errors", None)
        reason = errors()[0]["msg"] if callable(errors) else str(error)
        fail(f"CAREamics refuses the configuration: {reason}")
    n2v = config.algorithm_config.n2v_config
    model = config.algorithm_config.model
    settings = {
        "algorithm": config.get_algorithm_friendly_name(),
        "axes": axes,
        "patch": args.patch,
        "batch": args.batch,
        "seed": args.seed,
        "mosaic": args.mosaic,
        "train_mosaics" if args.mosaic > 1 else "train_images": len(noisy_train),
        "max_epochs": args.epochs,
        "max_minutes": args.minutes,
        "masked_pixel_percentage": n2v.masked_pixel_percentage,
        "roi_size": n2v.roi_size,
        "strategy": n2v.strategy,
        "unet_depth": model.depth,
        "unet_features": model.num_channels_init,
        "independent_channels": model.independent_channels,
        "normalization": config.data_config.normalization.name,
        "n_val_patches": config.data_config.n_val_patches,
        "num_workers": config.data_config.train_dataloader_params.get("num_workers"),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps({"settings": settings}), flush=True)

    with tempfile.TemporaryDirectory(prefix="careamics_peer_") as work_dir:
        seed_everything(args.seed, verbose=False)  # the U-Net's initial weights too
        start = [time.perf_counter()]
        careamist = CAREamist(
            config, work_dir=work_dir, callbacks=[epoch_printer(start)], enable_progress_bar=False
        )
        began = time.perf_counter()
        try:
            careamist.train(train_data=squeeze(noisy_train))
        except ValueError as error:  # e.g. too few patches for its 8 validation patches
            fail(f"CAREamics refuses the training data: {error}")
        train_seconds = time.perf_counter() - began
        trainer = careamist.trainer
        steps_per_epoch = int(trainer.num_training_batches)
        steps = int(trainer.global_step)
        final = Path(work_dir) / "final.ckpt"
        trainer.save_checkpoint(final)  # "last" lags: N2V's preset saves every 10 epochs

        height, width = test["noisy"].shape[1:3]
        whole = height % 2**DEPTH == 0 and width % 2**DEPTH == 0
        began = time.perf_counter()
        predictions, _ = careamist.predict(
            squeeze(test["noisy"]),
            tile_size=None if whole else (TILE, TILE),
            tile_overlap=None if whole else (TILE_OVERLAP, TILE_OVERLAP),
            checkpoint=final,
        )
        predict_seconds = time.perf_counter() - began
    done_epochs = args.epochs is not None and steps >= args.epochs * steps_per_epoch
    stopped_by = "epochs" if done_epochs else "time"
    # CAREamics returns the input's axes, SYX or SYXC, as one array or one per image
    denoised = np.concatenate([np.asarray(p, np.float32) for p in predictions])
    if denoised.size != test["noisy"].size:
        fail(f"CAREamics predicted shape {denoised.shape} for test images {test['noisy'].shape}")
    denoised = np.clip(denoised.reshape(test["noisy"].shape), 0, 1)
    settings["prediction"] = "whole images" if whole else f"tiles {TILE}, overlap {TILE_OVERLAP}"
    settings["normalization_stats"] = careamist.config.data_config.normalization.model_dump(
        include={"input_means", "input_stds"}
    )
    return {
        "careamics": careamics.__version__,
        "epochs_done": steps // steps_per_epoch if steps_per_epoch else 0,
        "steps_done": steps,
        "steps_per_epoch": steps_per_epoch,
        "stopped_by": stopped_by,
        "train_seconds": round(train_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
        "psnr": float(psnr_per_image(test["clean"], denoised).mean()),
        "psnr_noisy": float(psnr_per_image(test["clean"], test["noisy"]).mean()),
        "test_images": int(len(test["clean"])),
        "test_means": {  # a check that predictions are back in the [0, 1] scale
            name: round(float(images.mean()), 4)
            for name, images in (
                ("clean", test["clean"]),
                ("noisy", test["noisy"]),
                ("denoised", denoised),
            )
        },
        "settings": settings,
    }


def main() -> None:
    args = parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
