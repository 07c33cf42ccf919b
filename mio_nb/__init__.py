"""mio-nb: face swapping in notebooks with the MioCreate Face Swap API."""

__version__ = "0.1.0"
