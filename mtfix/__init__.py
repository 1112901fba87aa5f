"""mtfix: repair synonym-spun or garbled news text back into standard wire phrasing."""

__version__ = "0.1.0"
