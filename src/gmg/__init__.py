"""GMG Platform: software for running an inter-agency coordination group."""

__version__ = "0.1.0"
