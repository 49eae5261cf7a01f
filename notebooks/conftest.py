"""pytest + nbval settings for the notebooks: CI executes every notebook (`--nbval-lax`, set in
pyproject.toml) under the `smoke` profile: each notebook leaves `profile` None and
`amdlib.setup` then reads AMD_PROFILE. Results and checkpoints go to a temporary folder
(AMD_RESULTS_DIR, AMD_RUNS_DIR), so a test run never touches the committed results/ or a user's
runs/; an AMD_* variable set by the caller wins."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("AMD_PROFILE", "smoke")
if "AMD_RESULTS_DIR" not in os.environ or "AMD_RUNS_DIR" not in os.environ:
    _scratch = tempfile.mkdtemp(prefix="amd-nbval-")
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    os.environ.setdefault("AMD_RESULTS_DIR", os.path.join(_scratch, "results"))
    os.environ.setdefault("AMD_RUNS_DIR", os.path.join(_scratch, "runs"))
