"""Documents to index: load, clean, chunk, embed and store, incrementally.

A library: it never imports the ``bot`` application.
"""
