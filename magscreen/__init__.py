"""magscreen: high-throughput screening of magnetic materials with a magnetic ML potential."""

__version__ = "0.1.0"
