"""Citizen-facing pages: the report form behind a poster, the receipt and the status page."""
