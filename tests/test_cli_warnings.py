"""The command line prints nwnrc's own warnings as one line, not as Python does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nwnrc.recording import Recording, write_recording


def test_a_data_warning_prints_as_one_line(tmp_path: Path) -> None:
    # 40 digits whose pad 2 reads one value throughout: the validator's flat-channel
    # warning (a DataWarning) goes out while the run goes on
    rng = np.random.default_rng(0)
    n, steps = 40, 784
    pixels = rng.random((n, steps)).astype(np.float32)
    pads = np.stack([0.5 * pixels, np.full_like(pixels, 0.25)], axis=1)
    rec = Recording(
        pads=pads,
        input=pixels,
        labels=np.arange(n) % 10,
        dt_s=1e-3,
        pad_numbers=(1, 2),
        n_train=30,
        source_pad=4,
        drain_pads=(11,),
        v_min=0.0,
        v_max=1.0,
    )
    path = write_recording(tmp_path / "flat.h5", rec)
    argv = ["mnist", "--recording", str(path), "--out", str(tmp_path / "run")]
    argv += ["--methods", "ridge", "--shuffles", "1", "--no-figures", "--no-progress"]
    code = "import sys; from nwnrc.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if "warning" in x.lower()]
    assert lines, done.stderr
    assert all(x.startswith("nwnrc: warning: ") for x in lines), done.stderr
    assert "pad 2" in done.stderr
    assert "DataWarning" not in done.stderr
