"""The Valkey tests use the real-server fixtures registered by `tests/conftest.py`."""
