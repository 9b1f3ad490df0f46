"""The audio front-end: decode → mono → resample → pad/crop → log-mel.

The Swift engine reimplements each step and is checked against this module on fixtures, so every
parameter comes from the FrontEndConfig that is also written into the model card.
"""
from __future__ import annotations

import numpy as np
import torch
import torchaudio

from .config import FrontEndConfig

# The libsoxr quality recipe used on both sides (Swift: SOXR_HQ).
RESAMPLE_QUALITY = "HQ"


def decode(path: str) -> tuple[np.ndarray, int]:
    """Decodes any libsndfile format to float32 frames × channels, with its sample rate."""
    import soundfile   # here, not at the top: a lent GPU machine trains from packed log-mels without it

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return samples, rate


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mean of the channels, as the live path mixes down."""
    return samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0].copy()


def resample(mono: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return mono
    import soxr   # as soundfile above

    return soxr.resample(mono, rate, target, quality=RESAMPLE_QUALITY).astype(np.float32)


def fit_window(mono: np.ndarray, length: int) -> np.ndarray:
    """Zero-pads at the end or keeps the first `length` samples."""
    if len(mono) >= length:
        return mono[:length]
    return np.pad(mono, (0, length - len(mono)))


def load_window(path: str, fe: FrontEndConfig) -> np.ndarray:
    samples, rate = decode(path)
    mono = resample(to_mono(samples), rate, fe.sample_rate)
    mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    return fit_window(mono, fe.window_samples)


class LogMel(torch.nn.Module):
    """torchaudio MelSpectrogram + AmplitudeToDB, parameterised by the model card's front-end."""

    def __init__(self, fe: FrontEndConfig):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=fe.sample_rate, n_fft=fe.n_fft, win_length=fe.win_length,
            hop_length=fe.hop_length, f_min=fe.f_min, f_max=fe.f_max, n_mels=fe.n_mels,
            power=fe.power, norm=fe.mel_norm, mel_scale=fe.mel_scale, center=True, pad_mode="reflect")
        self.to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=fe.top_db)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """[samples] → [n_mels, frames] (dB). top_db clamps relative to this window's own peak."""
        return self.to_db(self.mel(waveform))
