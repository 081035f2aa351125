"""The model cache keeps this install's ONNX export and the most recently used others', not one per install forever."""

from __future__ import annotations

import os

from ingest.embedding.onnx_encoder import export_path, find_export, prune_exports


def test_exports_of_installs_not_used_lately_are_removed_and_others_models_left_alone(tmp_path):
    model = "/opt/models/demo-model"  # a path: each install of the package has its own, hence its own export
    mine = export_path(tmp_path, model)
    folder = mine.parent
    folder.mkdir(parents=True)
    others = []
    for age, slug in enumerate(["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"], start=1):
        for name in (f"demo-model-{slug}-v2.onnx", f"demo-model-{slug}-v2-int8.onnx"):
            path = folder / name
            path.write_bytes(b"x" * 1000)
            os.utime(path, (1_000_000 - age * 1000, 1_000_000 - age * 1000))  # aaaa… used most recently
            others.append(path)
    similar = folder / "demo-model-custom-cccccccccccc-v2.onnx"  # another model whose name starts the same
    similar.write_bytes(b"y")
    mine.write_bytes(b"z")
    assert find_export(tmp_path, model) == mine  # using it marks it as used
    assert prune_exports(tmp_path, model, keep=3) == 4000  # cccc… and dddd…: two files each
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(
        [
            mine.name,
            similar.name,
            "demo-model-aaaaaaaaaaaa-v2.onnx",
            "demo-model-aaaaaaaaaaaa-v2-int8.onnx",
            "demo-model-bbbbbbbbbbbb-v2.onnx",
            "demo-model-bbbbbbbbbbbb-v2-int8.onnx",
        ]
    )
