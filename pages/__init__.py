"""Dash pages, one module per URL. Importing this package registers them all.

Order matters: ``/runs/compare`` is registered before the ``/runs/<run_id>`` template, so the
word "compare" is never taken for a run id.
"""

from pages import builder, compare, home, lab, live, results, runs, strategies, stress  # noqa: F401
