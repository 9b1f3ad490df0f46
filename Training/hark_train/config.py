"""Run configuration, read from a TOML file (see Training/configs/)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, asdict
from pathlib import Path


@dataclass
class DataConfig:
    root: str = "../shared/datasets/esc50"
    train_folds: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    # Folds scored every epoch to choose settings. Never fold 5: that one is scored once, at the end.
    val_folds: list[int] = field(default_factory=list)
    test_folds: list[int] = field(default_factory=lambda: [5])


@dataclass
class FrontEndConfig:
    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 128
    f_min: float = 0.0
    f_max: float = 11025.0
    mel_scale: str = "slaney"      # "htk" or "slaney"
    mel_norm: str | None = "slaney"  # None or "slaney"
    power: float = 2.0
    top_db: float = 80.0
    window_seconds: float = 5.0

    @property
    def window_samples(self) -> int:
        return int(round(self.window_seconds * self.sample_rate))

    @property
    def frames(self) -> int:
        # torchaudio centres frames (center=True): 1 + floor(samples / hop).
        return 1 + self.window_samples // self.hop_length


@dataclass
class ModelConfig:
    stem: str = "conv3"            # "conv3": 3x3 stride 2; "conv7_maxpool": 7x7 stride 2 + 3x3/2 max-pool
    stem_width: int = 32
    blocks: list[int] = field(default_factory=lambda: [2, 2, 2, 2])
    widths: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    # "avg": global average over frequency and time. "freq_mean_time_max_mean": average over
    # frequency, then max + mean over time, so a short sound in a quiet crop is not averaged away.
    pool: str = "avg"
    # A second input channel holding each mel bin's place (-1 at the lowest bin, +1 at the highest),
    # so that the convolutions, equivariant to shifts in frequency, can tell where a pattern lies
    # (frequency-aware CNNs, Koutini et al. 2019). Not in the Swift engine (the exporter refuses it).
    freq_coord: bool = False
    dropout: float = 0.5
    num_classes: int = 50


@dataclass
class TrainConfig:
    epochs: int = 150
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    pct_start: float = 0.25
    mixup_alpha: float = 1.0
    mixup_prob: float = 1.0
    mix_in_power: bool = False     # mix spectrograms as sound powers (between-class style) instead of dB
    # With mix_in_power: between-class learning's mixing rule. The label ratio r is drawn as before,
    # but the powers are mixed at the ratio that makes the quieter clip as audible as r says, judged
    # by each clip's A-weighted peak frame level (Tokozume et al., 2018).
    mix_by_loudness: bool = False
    label_smoothing: float = 0.0
    freq_masks: int = 2
    freq_mask_width: int = 16
    time_masks: int = 2
    time_mask_width: int = 40
    time_shift: bool = True        # random circular shift along time
    # Train on random crops of this many frames (0 = whole window); scoring always uses the whole
    # window, which the global average pool accepts. Shorter inputs make each epoch cheaper.
    crop_frames: int = 0
    # Draw this many crop positions per example and keep the loudest, so few crops are mostly
    # silence (ESC-50 pads short sounds with it) yet still carry the clip's label.
    crop_candidates: int = 1
    # Score validation and test windows as the mean over this many evenly spaced crops of
    # `crop_frames` frames (1 = the whole window); the model card carries it to the Swift side.
    eval_crops: int = 1
    # With crops: stretch each crop in time by a random factor in [1/(1+t), 1+t] and shift it by
    # up to ± this many mel bins (spectrogram-side time stretch and pitch shift; 0 = off).
    time_stretch: float = 0.0
    freq_shift: float = 0.0
    gain_db: float = 6.0           # random gain ± this many dB
    colour_db: float = 0.0         # random spectral tilt and bell, each up to ± this many dB (0 = off)
    # Background noise: with this probability an example (after mixup) gets white, pink or brown
    # noise added as sound power, its loudest frame `noise_snr_db` (uniform between the two) above
    # the noise's mean frame level — the noise floor a live stream has under every sound (0 = off).
    noise_prob: float = 0.0
    noise_snr_db: list[float] = field(default_factory=lambda: [5.0, 35.0])
    ema_decay: float = 0.0         # 0 = off
    # Distillation: finished runs (folders with checkpoint.pt) whose mean softmax on each augmented
    # training crop makes up `distill_weight` of the target, the mixed labels the rest.
    teachers: list[str] = field(default_factory=list)
    distill_weight: float = 0.9
    # Fine-tuning: a finished run (folder with checkpoint.pt) or an exported model card whose weights
    # this run starts from instead of a fresh initialisation; it must have the same network, front-end
    # and training folds ("" = off). Optimiser and schedule start afresh with this run's settings.
    init_from: str = ""
    # "bf16": the training forward pass runs under CPU bfloat16 autocast (weights, optimiser and
    # every evaluation stay float32, as in the Swift engine). On this AVX512-BF16 CPU: 1.2x faster
    # on 64 x 108 crops, 2.1x on 128 x 216 (Training/EXPERIMENTS.md, seventh round).
    precision: str = "fp32"
    # Stochastic weight averaging: the last `swa_epochs` epochs run at the constant rate `swa_lr`
    # (the OneCycle schedule takes the epochs before them) and the weights at the end of each are
    # averaged; batch-norm statistics are then recomputed for the averaged weights over the
    # training windows' scoring crops. The averaged weights are the run's result (0 = off).
    swa_epochs: int = 0
    swa_lr: float = 2e-4
    # "cpu" or "cuda": where the network trains and scores. Augmentation stays on the CPU, with the
    # same generators, so a run's random draws do not depend on the device.
    device: str = "cpu"
    val_every: int = 1             # score the validation folds every n epochs (and after the last)
    # Write the run's whole state (weights, optimiser, scheduler, every RNG, the rows so far) to
    # resume.pt every n epochs: `train.py --resume` continues from it exactly (0: never).
    checkpoint_every: int = 10
    seed: int = 1
    threads: int = 2


@dataclass
class RunConfig:
    name: str = "run"
    data: DataConfig = field(default_factory=DataConfig)
    frontend: FrontEndConfig = field(default_factory=FrontEndConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def _fill(cls, table: dict):
    known = {f for f in cls.__dataclass_fields__}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**table)


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Reads a TOML run config; `overrides` are `section.key=value` strings (TOML values)."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    for item in overrides or []:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        raw.setdefault(section, {})[name] = tomllib.loads(f"v = {value}")["v"]
    return run_config_from_dict(raw, default_name=Path(path).stem)


def run_config_from_dict(raw: dict, default_name: str = "run") -> RunConfig:
    """A RunConfig from a TOML table or a checkpoint's config dict; missing keys take the defaults."""
    return RunConfig(
        name=raw.get("name", default_name),
        data=_fill(DataConfig, raw.get("data", {})),
        frontend=_fill(FrontEndConfig, raw.get("frontend", {})),
        model=_fill(ModelConfig, raw.get("model", {})),
        train=_fill(TrainConfig, raw.get("train", {})),
    )


def frontend_from_dict(d: dict) -> FrontEndConfig:
    return _fill(FrontEndConfig, d)


def model_from_dict(d: dict) -> ModelConfig:
    return _fill(ModelConfig, d)
