#!/usr/bin/python3
"""Writes a synthetic RT-DC file for the metadata-extraction benchmark.

usage: rtdc-make-file.py OUT.rtdc EVENTS FEATURES IMAGE_SIDE

EVENTS events with FEATURES float64 scalar features (a few NaN in each), an uint8 `image`
of IMAGE_SIDE x IMAGE_SIDE pixels per event, and every root attribute RT-DC requires.
Written in chunks so that memory stays small whatever the size.
"""
import sys

import h5py
import numpy as np

out, events, features, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
CHUNK = 100_000
rng = np.random.default_rng(42)

ATTRIBUTES = {
    "experiment:date": "2026-11-23", "experiment:event count": events, "experiment:run index": 1,
    "experiment:sample": "benchmark", "experiment:time": "12:00:00",
    "imaging:flash device": "LED", "imaging:flash duration": 2.0, "imaging:frame rate": 2000.0,
    "imaging:pixel size": 0.34, "imaging:roi position x": 640.0, "imaging:roi position y": 32.0,
    "imaging:roi size x": side, "imaging:roi size y": side,
    "setup:channel width": 20.0, "setup:chip region": "channel", "setup:flow rate": 0.04,
    "setup:medium": "CellCarrier",
}

with h5py.File(out, "w") as f:
    for key, value in ATTRIBUTES.items():
        f.attrs[key] = value
    group = f.create_group("events")
    # Names dclab defines (dclab/definitions/feat_const.py), so that the file stays valid.
    names = ["area_um", "deform", "bright_avg", "pos_x", "pos_y", "area_cvx", "area_msd", "area_ratio",
             "aspect", "bright_sd", "circ", "inert_ratio_cvx", "inert_ratio_raw", "per_ratio", "size_x",
             "size_y", "temp", "tilt", "time", "volume"] + [f"userdef{i}" for i in range(10)]
    if features > len(names):
        sys.exit(f"at most {len(names)} features")
    for name in names[:features]:
        ds = group.create_dataset(name, shape=(events,), dtype="<f8", chunks=(min(CHUNK, events),))
        for start in range(0, events, CHUNK):
            block = rng.normal(100.0, 15.0, min(CHUNK, events - start))
            block[::997] = np.nan
            ds[start:start + len(block)] = block
    image = group.create_dataset("image", shape=(events, side, side), dtype="u1", chunks=(min(4096, events), side, side))
    frame = rng.integers(0, 255, size=(min(CHUNK, events), side, side), dtype=np.uint8)
    for start in range(0, events, CHUNK):
        n = min(CHUNK, events - start)
        image[start:start + n] = frame[:n]
