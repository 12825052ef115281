#!/usr/bin/python3
"""Writes tinynet/tinynet.pth, the random weights of tinynet/hubconf.py's model."""
import os
import sys
import types

import torch

here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, "tinynet", "hubconf.py")).read()
mod = types.ModuleType("hubconf")
exec(src, mod.__dict__)
torch.manual_seed(0)
model = mod.TinyNet()
torch.save(model.state_dict(), os.path.join(here, "tinynet", "tinynet.pth"))
