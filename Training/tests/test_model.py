"""The frequency-place input channel (model.freq_coord) tells the network where a pattern lies in frequency.

    python3 -m unittest Training/tests/test_model.py     (a second; needs torch)

Without the channel, a stem convolution sees a constant input the same in every inner mel row; with
it, the rows differ by place, and the same pattern at two heights gives two different stem maps
beyond the shift itself.
"""
import sys
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hark_train.config import ModelConfig  # noqa: E402
from hark_train.model import HarkResNet, count_macs  # noqa: E402


def stem_output(model: HarkResNet, x: torch.Tensor) -> torch.Tensor:
    taps: dict = {}
    with torch.no_grad():
        model.eval()(x, taps)
    return taps["conv1"]


class FrequencyPlaceChannelTests(unittest.TestCase):
    def test_stem_takes_two_channels_and_the_rest_is_unchanged(self):
        plain, placed = HarkResNet(ModelConfig()), HarkResNet(ModelConfig(freq_coord=True))
        self.assertEqual(tuple(plain.conv1.weight.shape[:2]), (32, 1))
        self.assertEqual(tuple(placed.conv1.weight.shape[:2]), (32, 2))
        plain_params = sum(p.numel() for p in plain.parameters())
        placed_params = sum(p.numel() for p in placed.parameters())
        self.assertEqual(placed_params - plain_params, 32 * 3 * 3)
        # The extra channel costs one more input channel in the stem only.
        self.assertEqual(count_macs(ModelConfig(freq_coord=True), 64, 108) - count_macs(ModelConfig(), 64, 108),
                         32 * 32 * 54 * 9)

    def test_rows_differ_by_place_only_with_the_channel(self):
        torch.manual_seed(0)
        constant = torch.full((1, 1, 64, 108), 0.5)
        plain = stem_output(HarkResNet(ModelConfig()), constant)[0, :, 1:-1, 1:-1]
        self.assertTrue(torch.allclose(plain, plain[:, :1, :1].expand_as(plain)),
                        "a plain stem maps a constant input to the same value in every inner row")
        placed = stem_output(HarkResNet(ModelConfig(freq_coord=True)), constant)[0, :, 1:-1, 1:-1]
        self.assertFalse(torch.allclose(placed[:, 0], placed[:, -1]),
                         "with the place channel the lowest and highest inner rows must differ")
        # Along time nothing changes: the channel holds place in frequency only.
        self.assertTrue(torch.allclose(placed, placed[:, :, :1].expand_as(placed)))

    def test_a_pattern_moved_in_frequency_is_not_just_moved_in_the_stem(self):
        torch.manual_seed(1)
        pattern = torch.zeros(1, 1, 64, 108)
        pattern[0, 0, 10:14, 40:60] = 3.0
        moved = torch.roll(pattern, shifts=32, dims=2)
        for freq_coord, equivariant in ((False, True), (True, False)):
            model = HarkResNet(ModelConfig(freq_coord=freq_coord))
            a, b = stem_output(model, pattern), stem_output(model, moved)
            # Stride 2: a 32-bin move is a 16-row move of the stem map (rows clear of the edges).
            same = torch.allclose(a[0, :, 2:12], b[0, :, 18:28], atol=1e-6)
            self.assertEqual(same, equivariant, f"freq_coord={freq_coord}")


if __name__ == "__main__":
    unittest.main()
