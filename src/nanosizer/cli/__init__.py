"""Command-line interface: one module per command, thin shells over the Python API."""
