"""Augmentations applied to batches of normalised log-mels [B, 1, mels, frames]."""
from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio

from .config import FrontEndConfig, TrainConfig
from .frontend import LogMel


def spec_augment(x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """SpecAugment: zero (the normalised mean) random frequency and time bands, per example."""
    b, _, mels, frames = x.shape
    x = x.clone()
    for axis, count, width, size in ((2, cfg.freq_masks, cfg.freq_mask_width, mels),
                                     (3, cfg.time_masks, cfg.time_mask_width, frames)):
        for _ in range(count):
            w = torch.randint(0, width + 1, (b,), generator=gen)
            start = (torch.rand(b, generator=gen) * (size - w)).long()
            idx = torch.arange(size)
            mask = (idx[None, :] >= start[:, None]) & (idx[None, :] < (start + w)[:, None])
            shape = [b, 1, 1, 1]
            shape[axis] = size
            x = x.masked_fill(mask.view(shape), 0.0)
    return x


def time_shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Circular shift along time by a random amount per example (sounds can start anywhere)."""
    frames = x.shape[-1]
    shifts = torch.randint(0, frames, (x.shape[0],), generator=gen)
    idx = (torch.arange(frames)[None, :] - shifts[:, None]) % frames
    return torch.gather(x, 3, idx[:, None, None, :].expand_as(x))


def random_crop(x: torch.Tensor, frames: int, candidates: int, gen: torch.Generator,
                level_rows: int | None = None) -> torch.Tensor:
    """A random circular crop of `frames` frames per example, the loudest of `candidates` draws,
    loudness measured over the first `level_rows` mel rows (all by default)."""
    b, _, _, total = x.shape
    if frames <= 0 or frames >= total:
        return x
    starts = torch.randint(0, total, (b, max(1, candidates)), generator=gen)
    if candidates > 1:
        # Mean level of each candidate crop, from a circular running sum of per-frame levels.
        level = x[:, :, :level_rows].mean(dim=(1, 2))               # [b, total]
        csum = torch.cat([torch.zeros(b, 1), torch.cat([level, level], 1).cumsum(1)], 1)
        crop_sum = torch.gather(csum, 1, starts + frames) - torch.gather(csum, 1, starts)
        starts = torch.gather(starts, 1, crop_sum.argmax(1, keepdim=True))
    idx = (starts[:, :1] + torch.arange(frames)[None, :]) % total      # [b, frames]
    return torch.gather(x, 3, idx[:, None, None, :].expand(b, x.shape[1], x.shape[2], frames))


def random_colouring(x: torch.Tensor, amount: float, gen: torch.Generator) -> torch.Tensor:
    """Adds a random smooth curve over the mel bands to each example: a tilt from -t to +t across
    the band plus one bell of height h centred anywhere, t and h uniform in ±`amount` (in the units
    of x). A stand-in for the microphones, rooms and codecs a recording passed through, which
    colour the spectrum without changing what the sound is."""
    b, _, mels, _ = x.shape
    pos = torch.linspace(-1.0, 1.0, mels)
    tilt = (torch.rand(b, 1, generator=gen) * 2 - 1) * amount
    height = (torch.rand(b, 1, generator=gen) * 2 - 1) * amount
    centre = torch.rand(b, 1, generator=gen) * 2 - 1
    width = 0.1 + torch.rand(b, 1, generator=gen) * 0.4                  # in units of half the band
    curve = tilt * pos[None, :] + height * torch.exp(-0.5 * ((pos[None, :] - centre) / width) ** 2)
    return x + curve.view(b, 1, mels, 1)


def random_gain(db: torch.Tensor, gain_db: float, gen: torch.Generator) -> torch.Tensor:
    """Adds a random gain in dB (before normalisation)."""
    g = (torch.rand(db.shape[0], 1, 1, 1, generator=gen) * 2 - 1) * gain_db
    return db + g


def noise_bank(fe: FrontEndConfig, per_colour: int = 4, seed: int = 0) -> torch.Tensor:
    """Log-mels [3 * per_colour, n_mels, frames] (dB) of whole windows of white, pink and brown noise
    (power ∝ 1/f^0, 1/f, 1/f²) at unit RMS, through the front-end the clips went through."""
    rng = np.random.default_rng(seed)
    samples = fe.window_samples
    freqs = np.fft.rfftfreq(samples)
    freqs[0] = freqs[1]
    logmel = LogMel(fe)
    bank = []
    with torch.no_grad():
        for exponent in (0.0, 1.0, 2.0):
            for _ in range(per_colour):
                wave = np.fft.irfft(np.fft.rfft(rng.standard_normal(samples)) / freqs ** (exponent / 2), samples)
                wave /= np.sqrt(np.mean(wave ** 2))
                bank.append(logmel(torch.from_numpy(wave.astype(np.float32))))
    return torch.stack(bank)


def frame_levels_db(db: torch.Tensor, rows: int) -> torch.Tensor:
    """Each frame's power summed over the first `rows` mel bands, in dB: [..., mels, frames] → [..., frames]."""
    return 10 * torch.log10(torch.pow(10.0, db[..., :rows, :] / 10).sum(-2).clamp_min(1e-20))


def add_noise(db: torch.Tensor, bank: torch.Tensor, prob: float, snr_db: list[float], top_db: float,
              gen: torch.Generator) -> torch.Tensor:
    """With probability `prob` per example, a bank noise (circularly shifted by a random amount) added
    as power, its mean frame level `snr_db` (uniform in the range) below the example's loudest frame;
    then the front-end's floor (`top_db` below the peak) again. db: [B, 1, mels, frames], dB."""
    b, _, mels, frames = db.shape
    chosen = torch.rand(b, generator=gen) < prob
    pick = torch.randint(0, len(bank), (b,), generator=gen)
    shift = torch.randint(0, bank.shape[-1], (b,), generator=gen)
    snr = snr_db[0] + torch.rand(b, generator=gen) * (snr_db[1] - snr_db[0])
    if not chosen.any():
        return db
    noise = bank[pick]                                                    # [b, mels, bank frames]
    idx = (torch.arange(frames)[None, :] + shift[:, None]) % noise.shape[-1]
    noise = torch.gather(noise, 2, idx[:, None, :].expand(b, mels, frames))
    gain = frame_levels_db(db[:, 0], mels).amax(-1) - snr - frame_levels_db(noise, mels).mean(-1)
    noise = noise + gain[:, None, None]
    scale = math.log(10) / 10
    noisy = torch.logaddexp(db[:, 0] * scale, noise * scale) / scale
    noisy = torch.maximum(noisy, noisy.amax(dim=(-2, -1), keepdim=True) - top_db)
    return torch.where(chosen[:, None, None, None], noisy[:, None], db)


def a_weighting_db(fe: FrontEndConfig) -> torch.Tensor:
    """The A-weighting (IEC 61672) in dB at each of the front-end's mel bands' centre frequency,
    floored at -80 dB: how loud the ear finds each band, for judging which of two clips is the louder."""
    fbanks = torchaudio.functional.melscale_fbanks(fe.n_fft // 2 + 1, fe.f_min, fe.f_max, fe.n_mels, fe.sample_rate,
                                                   norm=fe.mel_norm, mel_scale=fe.mel_scale)
    freqs = torch.linspace(0, fe.sample_rate / 2, fe.n_fft // 2 + 1, dtype=torch.float64)
    f2 = freqs[fbanks.argmax(0)] ** 2
    ra = (12194.0 ** 2 * f2 ** 2) / ((f2 + 20.6 ** 2) * torch.sqrt((f2 + 107.7 ** 2) * (f2 + 737.9 ** 2))
                                      * (f2 + 12194.0 ** 2))
    return (20 * torch.log10(ra.clamp_min(1e-12)) + 2.0).clamp_min(-80.0).float()


def peak_level_db(db: torch.Tensor, weights_db: torch.Tensor) -> torch.Tensor:
    """Each example's loudest frame in dB, its mel powers weighted by `weights_db` (one per row of
    the first len(weights_db) rows) and summed: [B, 1, mels, frames] → [B]."""
    rows = weights_db.shape[0]
    weighted = db[:, 0, :rows] + weights_db[None, :, None]
    return 10 * torch.log10(torch.exp(weighted * (math.log(10.0) / 10)).sum(1).clamp_min(1e-10)).amax(1)


def mixup(db: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, gen: torch.Generator,
          rng: np.random.Generator, weights_db: torch.Tensor | None = None):
    """Mixes each example with a shuffled partner; returns mixed dB spectrograms and soft targets.

    With `mix_in_power`, the two spectrograms are summed as sound powers (like mixing the waveforms
    at the drawn ratio) instead of averaged in dB. With `mix_by_loudness` as well (needs
    `weights_db`, see `a_weighting_db`), the label ratio r stays as drawn while the amplitudes mix
    at p = 1 / (1 + 10^((G1 - G2)/20) (1 - r)/r), G being each clip's peak level: between-class
    learning's rule, so a quiet clip given weight r is heard at weight r and not drowned.
    """
    b = db.shape[0]
    if cfg.mixup_alpha <= 0 or rng.random() > cfg.mixup_prob:
        return db, y
    lam = torch.from_numpy(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha, size=b).astype(np.float32))
    perm = torch.randperm(b, generator=gen)
    l4 = lam.view(b, 1, 1, 1)
    if cfg.mix_in_power:
        ln10 = math.log(10.0)
        w1, w2 = l4, 1 - l4
        if cfg.mix_by_loudness:
            if weights_db is None:
                raise ValueError("mix_by_loudness needs the front-end's band weights")
            gain = peak_level_db(db, weights_db)
            r = lam.clamp(1e-4, 1 - 1e-4)
            p = 1 / (1 + torch.pow(10.0, (gain - gain[perm]) / 20) * (1 - r) / r)
            # Amplitude weights p and 1 - p, rescaled to unit energy as BC does; as powers, squared.
            energy = p ** 2 + (1 - p) ** 2
            w1, w2 = (p ** 2 / energy).view(b, 1, 1, 1), ((1 - p) ** 2 / energy).view(b, 1, 1, 1)
        power = w1 * torch.exp(db * ln10 / 10) + w2 * torch.exp(db[perm] * ln10 / 10)
        mixed = 10 * torch.log10(power.clamp_min(1e-10))
    else:
        mixed = l4 * db + (1 - l4) * db[perm]
    ymix = lam.view(b, 1) * y + (1 - lam.view(b, 1)) * y[perm]
    return mixed, ymix


def random_warp(x: torch.Tensor, frames: int, stretch: float, freq_shift: float, candidates: int,
                gen: torch.Generator) -> torch.Tensor:
    """A random crop of `frames` frames, time-stretched by a factor in [1/(1+stretch), 1+stretch]
    and shifted by up to ±`freq_shift` mel bins: the spectrogram-side stand-ins for time
    stretching and pitch shifting the audio, which change how fast and how high a sound is
    without changing what it is.

    A crop `frames * (1 + stretch)` long is taken first (loudest of `candidates`), then each
    example reads its own span of it by bilinear interpolation.
    """
    b, _, mels, _ = x.shape
    span = int(math.ceil(frames * (1 + stretch)))
    x = random_crop(x, span, candidates, gen)
    span = x.shape[-1]
    log_rate = (torch.rand(b, generator=gen) * 2 - 1) * math.log1p(stretch)
    rate = torch.exp(log_rate).clamp(max=span / frames)                  # source frames per output frame
    shift = (torch.rand(b, generator=gen) * 2 - 1) * freq_shift          # in mel bins
    offset = (span - frames * rate) / 2                                   # centre the read span
    j = torch.arange(frames, dtype=torch.float32)
    src_t = offset[:, None] + (j[None, :] + 0.5) * rate[:, None]          # [b, frames], pixel edges
    src_f = torch.arange(mels, dtype=torch.float32)[None, :] + 0.5 + shift[:, None]   # [b, mels]
    # grid_sample coordinates (align_corners=False): pixel edge p ↦ 2p/size - 1.
    gx = (2 * src_t / span - 1)[:, None, :].expand(b, mels, frames)
    gy = (2 * src_f / mels - 1)[:, :, None].expand(b, mels, frames)
    grid = torch.stack([gx, gy], dim=-1)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                                           align_corners=False)
