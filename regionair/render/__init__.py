"""Figures, chart images, export bundles, tables out and briefing documents (plotly lives here)."""
