"""gridwatch: the composition root. CLI commands and the service that wires the packages."""

__version__ = "0.1.0"
