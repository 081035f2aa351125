"""citebot: answers from your own documents, with every claim cited."""

__version__ = "0.1.0"
