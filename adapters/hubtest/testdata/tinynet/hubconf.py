# PyTorch Hub entrypoints of a tiny image classifier (random weights, for tests).
dependencies = ["torch"]

import torch
from torch import nn

WEIGHTS = "{{WEIGHTS_URL}}"


class TinyNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


def tinynet(pretrained=True, progress=True, **kwargs):
    """TinyNet: 3x224x224 image in, 3 class logits out."""
    model = TinyNet(**kwargs)
    if pretrained:
        state = torch.hub.load_state_dict_from_url(WEIGHTS, progress=progress, check_hash=True)
        model.load_state_dict(state)
    return model.eval()
