"""cronkit's benchmark suite (not tests): `make bench`, i.e. `python -m bench`."""
