"""Inbound channels: where reports arrive other than through our own pages (SMS, WhatsApp and
Open311 to come). Outbound work, mail included, lives in lapor.jobs."""
