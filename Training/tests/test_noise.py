"""Background noise in training (`train.noise_prob`): levels, the front-end's floor, and who gets it.

    python3 -m unittest Training/tests/test_noise.py     (needs torch; no dataset, a few seconds)
"""
import sys
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hark_train.augment import add_noise, frame_levels_db, noise_bank  # noqa: E402
from hark_train.config import FrontEndConfig  # noqa: E402

K = FrontEndConfig(sample_rate=22050, hop_length=512, n_mels=64)


def clip_with_silence(frames: int) -> torch.Tensor:
    """A click (two loud frames) in digital silence, as the front-end leaves it: 80 dB below."""
    db = torch.full((1, 1, K.n_mels, frames), -60.0)
    db[..., 100:102] = 20.0
    return db


class NoiseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bank = noise_bank(K)

    def test_the_bank_holds_three_colours_at_unit_rms(self):
        self.assertEqual(tuple(self.bank.shape), (12, K.n_mels, K.frames))
        levels = frame_levels_db(self.bank, K.n_mels).mean(-1)
        # Brown noise puts its power below the lowest mel band's reach less than white does: the
        # colours differ in their spectra, not by whole decibels in level.
        white, brown = self.bank[:4].mean(dim=(0, 2)), self.bank[8:].mean(dim=(0, 2))
        self.assertGreater((brown[:8] - brown[-8:]).mean() - (white[:8] - white[-8:]).mean(), 20.0)
        self.assertTrue(torch.isfinite(levels).all())

    def test_the_noise_sits_the_drawn_snr_below_the_loudest_frame(self):
        db = clip_with_silence(K.frames).repeat(6, 1, 1, 1)
        gen = torch.Generator().manual_seed(3)
        noisy = add_noise(db, self.bank, 1.0, [10.0, 10.0], 80.0, gen)
        levels = frame_levels_db(noisy[:, 0], K.n_mels)
        peak = frame_levels_db(db[:, 0], K.n_mels).amax(-1)
        # The silence, now the noise alone (the whole window's level but for the click's frames:
        # brown noise's level wanders over a window, so a part of it would not do).
        quiet = torch.cat([levels[:, :98], levels[:, 104:]], 1).mean(-1)
        torch.testing.assert_close(peak - quiet, torch.full((6,), 10.0), atol=1.0, rtol=0)
        self.assertTrue((noisy >= db - 1e-4).all())                  # power is only ever added
        # The click stays where it was, a little louder for the noise under it (≤ 2 dB at 10 dB SNR).
        rise = levels[:, 100:102] - peak[:, None]
        self.assertGreaterEqual(rise.min().item(), -1e-3)
        self.assertLess(rise.max().item(), 2.0)

    def test_the_front_ends_floor_holds_after_the_noise(self):
        db = clip_with_silence(K.frames)
        noisy = add_noise(db, self.bank, 1.0, [60.0, 60.0], 80.0, torch.Generator().manual_seed(1))
        self.assertGreaterEqual(noisy.min().item(), noisy.max().item() - 80.0 - 1e-4)

    def test_only_the_drawn_share_of_a_batch_gets_noise(self):
        db = clip_with_silence(K.frames).repeat(400, 1, 1, 1)
        untouched = add_noise(db, self.bank, 0.0, [5.0, 35.0], 80.0, torch.Generator().manual_seed(2))
        self.assertTrue(torch.equal(untouched, db))
        noisy = add_noise(db, self.bank, 0.5, [5.0, 35.0], 80.0, torch.Generator().manual_seed(2))
        changed = (noisy != db).flatten(1).any(1).float().mean().item()
        self.assertGreater(changed, 0.4)
        self.assertLess(changed, 0.6)
        again = add_noise(db, self.bank, 0.5, [5.0, 35.0], 80.0, torch.Generator().manual_seed(2))
        self.assertTrue(torch.equal(noisy, again))                   # the generator decides, nothing else


if __name__ == "__main__":
    unittest.main()
