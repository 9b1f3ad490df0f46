"""The Hark ResNet family, with the seed's layer names (conv1, layer1 … layer4, layer1.0.conv1, …).

Feature-map taps are defined at the points the Swift engine can produce with batch-norm folded
into the convolutions:
  conv1              stem output after BN + ReLU (before the optional max-pool)
  layerS.B.conv1     block's first conv after BN + ReLU
  layerS.B.conv2     block's second conv after BN (before the residual add)
  layerS.B           block output (after add + ReLU); layerS is its last block's output
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .config import FrontEndConfig, ModelConfig, model_from_dict


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x, name: str, taps: dict | None):
        out = F.relu(self.bn1(self.conv1(x)))
        if taps is not None:
            taps[f"{name}.conv1"] = out
        out = self.bn2(self.conv2(out))
        if taps is not None:
            taps[f"{name}.conv2"] = out
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(out + identity)
        if taps is not None:
            taps[name] = out
        return out


class HarkResNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        input_channels = 2 if cfg.freq_coord else 1   # the log-mel, then the place channel
        if cfg.stem == "conv7_maxpool":
            self.conv1 = nn.Conv2d(input_channels, cfg.stem_width, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        elif cfg.stem == "conv3":
            self.conv1 = nn.Conv2d(input_channels, cfg.stem_width, 3, 2, 1, bias=False)
            self.maxpool = None
        else:
            raise ValueError(f"unknown stem {cfg.stem!r}")
        self.bn1 = nn.BatchNorm2d(cfg.stem_width)
        cin = cfg.stem_width
        for s, (n, width) in enumerate(zip(cfg.blocks, cfg.widths), start=1):
            blocks = []
            for b in range(n):
                stride = 2 if (b == 0 and s > 1) else 1
                blocks.append(BasicBlock(cin, width, stride))
                cin = width
            setattr(self, f"layer{s}", nn.ModuleList(blocks))
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(cin, cfg.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # Zero-init the last BN of each block: each residual branch starts as identity.
        for s in range(1, len(cfg.blocks) + 1):
            for block in getattr(self, f"layer{s}"):
                nn.init.zeros_(block.bn2.weight)

    def stage_names(self) -> list[str]:
        return [f"layer{s}" for s in range(1, len(self.cfg.blocks) + 1)]

    def exposed_layers(self) -> list[str]:
        names = ["conv1"]
        for s, n in enumerate(self.cfg.blocks, start=1):
            names.append(f"layer{s}")
            for b in range(n):
                names += [f"layer{s}.{b}", f"layer{s}.{b}.conv1", f"layer{s}.{b}.conv2"]
        return names

    def forward(self, x: torch.Tensor, taps: dict | None = None) -> torch.Tensor:
        """x: [batch, 1, n_mels, frames] normalised log-mel → logits [batch, classes]."""
        if self.cfg.freq_coord:
            b, _, n_mels, frames = x.shape
            place = torch.linspace(-1.0, 1.0, n_mels, dtype=x.dtype, device=x.device)
            x = torch.cat([x, place.view(1, 1, n_mels, 1).expand(b, 1, n_mels, frames)], dim=1)
        x = F.relu(self.bn1(self.conv1(x)))
        if taps is not None:
            taps["conv1"] = x
        if self.maxpool is not None:
            x = self.maxpool(x)
        for stage in self.stage_names():
            blocks = getattr(self, stage)
            for b, block in enumerate(blocks):
                x = block(x, f"{stage}.{b}", taps)
            if taps is not None:
                taps[stage] = x
        if self.cfg.pool == "avg":
            x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        elif self.cfg.pool == "freq_mean_time_max_mean":
            x = x.mean(2)
            x = x.amax(2) + x.mean(2)
        else:
            raise ValueError(f"unknown pool {self.cfg.pool!r}")
        return self.fc(self.dropout(x))


def only_known(cls, table: dict) -> dict:
    """A card carries more keys than the dataclass (input, macs, normalize, …): keep the fields."""
    return {k: v for k, v in table.items() if k in cls.__dataclass_fields__}


def load_card(card_path: str | Path) -> tuple[HarkResNet, dict]:
    """An exported model (card JSON + safetensors) as a network and a checkpoint-like dict
    (config with model, frontend, train folds and crops; normalize; labels; the card itself), so
    that scripts taking runs take a shipped model whose run folder is gone."""
    from safetensors.torch import load_file

    card_path = Path(card_path)
    card = json.loads(card_path.read_text())
    mc = ModelConfig(**only_known(ModelConfig, card["architecture"]))
    model = HarkResNet(mc)
    missing, unexpected = model.load_state_dict(load_file(str(card_path.parent / card["weights"]["file"])),
                                                strict=False)
    # The exporter drops BN's num_batches_tracked counters; nothing else may be missing.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{card_path}: weights do not fit the card (missing {missing}, unexpected {unexpected})")
    crops = card.get("crops") or {"frames": 0, "count": 1}
    config = {"model": asdict(mc), "frontend": only_known(FrontEndConfig, card["frontend"]),
              "data": {"train_folds": card["training"]["train_folds"]},
              "train": {"crop_frames": crops["frames"], "eval_crops": crops["count"], "eval_views": crops.get("views")}}
    return model.eval(), {"config": config, "normalize": card["frontend"]["normalize"],
                          "labels": [label["name"] for label in card["labels"]], "card": card}


def load_run(run: str | Path) -> tuple[HarkResNet, dict]:
    """A finished run's network, built from its checkpoint's own config, and the checkpoint; a
    model card's path (`*.json`) is read with `load_card`."""
    if Path(run).suffix == ".json":
        return load_card(run)
    ckpt = torch.load(Path(run) / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = HarkResNet(model_from_dict(ckpt["config"]["model"]))
    model.load_state_dict(ckpt["state_dict"])
    return model, ckpt


def count_macs(cfg: ModelConfig, n_mels: int, frames: int) -> int:
    """Multiply-accumulates of one forward pass (convolutions and the linear layer)."""
    model = HarkResNet(cfg)
    macs = 0

    def conv_hook(m, inp, out):
        nonlocal macs
        macs += out.numel() // out.shape[0] * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, n_mels, frames))
    for h in hooks:
        h.remove()
    return macs + model.fc.in_features * model.fc.out_features
