"""grayscan: find gray-industry 'illegal rights-defense' finance ads and drive their takedown."""

__version__ = "0.1.0"
