"""Stages of the MNIST denoising pipeline; each runs as `python -m stages.<name>`."""

import os

# TensorFlow's C++ start-up chatter (CPU features, missing CUDA) is noise in a stage's log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
