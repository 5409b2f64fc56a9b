#!/usr/bin/python3
"""The h5py side of the metadata-extraction benchmark: reads the same root attributes and
computes the same per-feature statistics (count, min, max, mean, NaN ignored) that the
schema-rtdc plugin extracts, then prints wall milliseconds and peak RSS as JSON.

usage: rtdc-h5py-extract.py FILE.rtdc
"""
import json
import resource
import sys
import time

import h5py
import numpy as np

started = time.perf_counter()
metadata = {}
statistics = {}
with h5py.File(sys.argv[1], "r") as f:
    for key, value in f.attrs.items():
        metadata[key] = value.item() if hasattr(value, "item") else value
    events = f["events"]
    for name in events:
        ds = events[name]
        if ds.ndim != 1:
            continue
        values = ds[:]
        finite = values[~np.isnan(values)]
        statistics[name] = {"count": int(finite.size), "min": float(finite.min()), "max": float(finite.max()), "mean": float(finite.mean())}
elapsed_ms = (time.perf_counter() - started) * 1000
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"ms": elapsed_ms, "peakRssMb": peak_mb, "features": len(statistics), "attributes": len(metadata)}))
