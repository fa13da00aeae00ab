"""gatelab's version, in a module of its own so that any floor can read it without importing the package's
front door (``gatelab/__init__.py``, whose helpers reach up to ``checking`` and ``magic``)."""

__version__ = "0.1.0"
