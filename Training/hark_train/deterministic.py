"""Deterministic pseudo-random weights that the Swift tests regenerate bit for bit.

A seed-size ResNet has ~21 M parameters (85 MB): too large for test fixtures. Instead both sides
derive every value from the tensor's name: value i of tensor N is
    u = (splitmix64(fnv1a64(N) + i) >> 40) / 2**24        (uniform in [0, 1), exact in float32)
then scaled per tensor kind (see `tensor_values`). Only the architecture and the outputs are stored.
"""
from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(name: str, count: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (np.uint64(fnv1a64(name)) + np.arange(count, dtype=np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def tensor_values(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The value of every parameter/buffer of the random seed-size ResNet, computed in float64."""
    count = int(np.prod(shape))
    u = uniform(name, count)
    if name.endswith("running_var"):
        v = 0.5 + u
    elif name.endswith("running_mean"):
        v = (u - 0.5) * 0.4
    elif name == "fc.weight":
        v = (2 * u - 1) * np.sqrt(1.0 / shape[1])
    elif name == "fc.bias":
        v = (u - 0.5) * 0.2
    elif len(shape) == 4:  # convolution: He-uniform
        fan_in = shape[1] * shape[2] * shape[3]
        v = (2 * u - 1) * np.sqrt(6.0 / fan_in)
    elif name.endswith(".weight"):  # BN gamma; small on each block's last BN so depth does not blow up
        v = (0.1 + 0.4 * u) if (".bn2." in name or "downsample.1" in name) else (0.5 + u)
    elif name.endswith(".bias"):  # BN beta
        v = (u - 0.5) * 0.2
    else:
        raise ValueError(f"no rule for {name}")
    return v.reshape(shape).astype(np.float32)
