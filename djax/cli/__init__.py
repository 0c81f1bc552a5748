"""Command-line interface: ``djax run | init | sample | optimize | scan | plot | bench``."""

from ._main import main

__all__ = ["main"]
