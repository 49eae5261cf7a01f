"""Files: atomic writes, amdlib and released checkpoints, dataset and weight downloads."""
