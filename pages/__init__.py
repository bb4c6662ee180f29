"""Dash pages, one module per URL. Importing this package registers them all."""

from pages import builder, home, lab, live, results, runs, strategies, stress  # noqa: F401
