"""LAPOR! front door: QR posters, an embeddable widget and a kiosk that route public-service
complaints straight to the admin coordinator (SP4N-LAPOR!).

The repository's top level is this package: installed, `server.py` is `lapor.server`, `store/` is
`lapor.store`, and so on (see docs/architecture.md)."""
