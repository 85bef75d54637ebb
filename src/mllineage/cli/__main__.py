"""``python -m mllineage.cli``: the console script, for a child process or an unusual PATH."""

from mllineage.cli import main

main()
