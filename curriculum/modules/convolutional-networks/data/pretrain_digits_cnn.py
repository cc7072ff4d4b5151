"""Reproduce data/digits_cnn.pt, the course's pre-trained network (lesson 03, assignment
convolutional-networks-transfer).

Source task: the 1,797 handwritten 8x8 digits bundled with scikit-learn (UCI Optical Recognition of
Handwritten Digits), every image shifted by up to one pixel and lightly noised each epoch.
Run from the module folder:  python data/pretrain_digits_cnn.py   (about 15 s on one CPU core)
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn


class DigitsCNN(nn.Module):
    """conv(1->16) -> pool -> conv(16->32) -> pool -> flatten (128 features) -> linear head."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(32 * 2 * 2, n_classes)

    def forward(self, x):
        return self.head(self.features(x))


def shift_and_noise(X, g, noise=0.05):
    """Move every (N, 1, 8, 8) image by -1, 0 or +1 pixels in each direction, add noise (no loops)."""
    n = len(X)
    P = F.pad(X, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), generator=g)
    dx = torch.randint(0, 3, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(8))[:, :, None]
    cols = (dx[:, None] + torch.arange(8))[:, None, :]
    out = P[torch.arange(n)[:, None, None], 0, rows, cols][:, None]
    return (out + noise * torch.randn(out.shape, generator=g)).clamp(0, 1)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    digits = load_digits()
    X = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(30):
        Xa = shift_and_noise(X, g)
        perm = torch.randperm(len(X))
        for k in range(0, len(X), 32):
            idx = perm[k:k + 32]
            opt.zero_grad()
            F.cross_entropy(model(Xa[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"training accuracy on the clean digits: {acc:.3f}")
    out = Path(__file__).with_name("digits_cnn.pt")
    torch.save(model.state_dict(), out)
    print("saved", out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
