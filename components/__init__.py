"""Reusable Dash/Plotly building blocks shared by the pages."""
