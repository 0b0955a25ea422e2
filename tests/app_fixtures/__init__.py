"""Importable modules for the command-line tests (`python -m cronkit tests.app_fixtures.X:app`)."""
