"""Retrieval: a question -> the passages most likely to answer it (dense, BM25, fusion, passage choice)."""
