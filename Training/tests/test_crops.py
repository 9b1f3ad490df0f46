"""Crops read through views (test-time warps) read the window as the training warps do.

    python3 -m unittest Training/tests/test_crops.py     (a second; needs torch)

A plain view is the plain crop; a shift moves rows with the border row repeated; a stretch reads
the frames the view's formula names (exact on a ramp, where linear interpolation is exact); and away
from the window's ends both agree with `grid_sample` set up as `augment.random_warp` sets it up.
"""
import sys
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hark_train.crops import PLAIN, VIEW_SETS, View, card_entry, crop_probabilities, read_crop, views_of  # noqa: E402


class ViewTests(unittest.TestCase):
    def test_plain_view_is_the_wrapping_crop(self):
        x = torch.randn(2, 1, 8, 20)
        crop = read_crop(x, 15, 10, View())
        expected = torch.cat([x[..., 15:], x[..., :5]], dim=-1)
        self.assertTrue(torch.equal(crop, expected))

    def test_shift_moves_rows_and_repeats_the_border(self):
        rows = torch.arange(8, dtype=torch.float32).view(1, 1, 8, 1).expand(1, 1, 8, 6)
        up = read_crop(rows, 0, 4, View(shift=2))[0, 0, :, 0].tolist()
        down = read_crop(rows, 0, 4, View(shift=-2))[0, 0, :, 0].tolist()
        self.assertEqual(up, [2, 3, 4, 5, 6, 7, 7, 7])
        self.assertEqual(down, [0, 0, 0, 1, 2, 3, 4, 5])

    def test_stretch_reads_the_named_frames(self):
        ramp = torch.arange(200, dtype=torch.float64).view(1, 1, 1, 200)
        for rate in (1.25, 0.8):
            crop = read_crop(ramp, 50, 40, View(rate=rate))[0, 0, 0]
            j = torch.arange(40, dtype=torch.float64)
            expected = 50 + 20 - 20 * rate + (j + 0.5) * rate - 0.5
            self.assertTrue(torch.allclose(crop, expected, atol=1e-9), rate)
            # Centred on the plain crop's centre, spanning 40 · rate frames.
            self.assertAlmostEqual(float(crop.mean()), 50 + 19.5, places=9)
            self.assertAlmostEqual(float(crop[-1] - crop[0]), 39 * rate, places=9)

    def test_agrees_with_the_training_warp_away_from_the_ends(self):
        torch.manual_seed(0)
        x = torch.randn(1, 1, 16, 120)
        start, frames = 40, 30
        for view in (View(shift=2), View(shift=-2), View(rate=1.25), View(rate=0.8), View(shift=2, rate=1.25)):
            # random_warp's grid: pixel-edge coordinates over the whole window, normalised to [-1, 1].
            j = torch.arange(frames, dtype=torch.float32)
            src_t = start + frames / 2 - frames * view.rate / 2 + (j + 0.5) * view.rate
            src_f = torch.arange(16, dtype=torch.float32) + 0.5 + view.shift
            gx = (2 * src_t / 120 - 1)[None, :].expand(16, frames)
            gy = (2 * src_f / 16 - 1)[:, None].expand(16, frames)
            warped = torch.nn.functional.grid_sample(x, torch.stack([gx, gy], -1)[None], mode="bilinear",
                                                     padding_mode="border", align_corners=False)
            self.assertTrue(torch.allclose(read_crop(x, start, frames, view), warped, atol=1e-4), view)   # grid_sample rounds its coordinates in float32

    def test_views_cycle_over_the_crops_and_plain_is_unchanged(self):
        seen = []

        def model(crop):
            seen.append(crop.clone())
            return torch.zeros(crop.shape[0], 3)

        x = torch.randn(1, 1, 8, 40)
        crop_probabilities(model, x, 10, 8, views=VIEW_SETS["C"])
        for k, crop in enumerate(seen):
            start = (k * 40) // 8
            self.assertTrue(torch.equal(crop, read_crop(x, start, 10, VIEW_SETS["C"][k])), k)
        self.assertEqual(sum(v == View() for v in VIEW_SETS["C"]), 4)
        seen.clear()
        crop_probabilities(model, x, 10, 8, views=PLAIN)
        self.assertTrue(all(torch.equal(c, read_crop(x, (k * 40) // 8, 10)) for k, c in enumerate(seen)))

    def test_card_entry_carries_views_and_plain_stays_as_before(self):
        plain = card_entry(108, 8)
        self.assertNotIn("views", plain)
        self.assertEqual(views_of(plain.get("views")), PLAIN)
        entry = card_entry(108, 8, VIEW_SETS["B"])
        self.assertEqual(entry["views"][1], {"shift": 0, "rate": 1.25})
        self.assertEqual(views_of(entry["views"]), VIEW_SETS["B"])
        self.assertEqual(views_of(None), PLAIN)


if __name__ == "__main__":
    unittest.main()
