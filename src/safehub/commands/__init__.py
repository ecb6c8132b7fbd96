"""The `safehub` command's sub-command groups, one module per area (cli.py registers them); output.py is
what they print with."""
