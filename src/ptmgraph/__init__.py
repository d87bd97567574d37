"""ptmgraph: what a pre-trained model is, where it came from, and who is hurt when it is wrong."""

__version__ = "0.1.0"
