"""Files: atomic writes, amdlib and released checkpoints, dataset and weight downloads (`download`,
with the table of what it fetches in `resources`), and video reading and writing (`video`)."""
