"""Hark's training pipeline: ESC-50 → log-mel → ResNet, exported for the Swift engine."""
