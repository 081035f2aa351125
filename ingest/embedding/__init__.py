"""The embedding model behind a one-method interface: sentence-transformers, torch and ONNX backends, devices."""
