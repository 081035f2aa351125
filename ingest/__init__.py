"""The ingest library: documents from a source into the index, incrementally.

A sub-package per concern: ``sources`` (where documents come from), ``documents`` (reading,
cleaning, chunking), ``embedding`` (the model and its backends), ``index`` (the Chroma store);
``pipeline`` drives them. A library: it never imports the ``bot`` application.
"""
