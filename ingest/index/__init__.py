"""The Chroma index: the store and its parts, the client and its failures, typed records, the lock, sentence cache."""
