"""The inbound channels' URLs. The SMS gateway's is in its kannel.conf (or playSMS's
configuration), so the path is a contract like a poster's."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.channels import sms

routes: list[Route | Mount] = [
    Route("/channels/sms", sms.inbound, methods=["GET", "POST"], name="channel_sms"),
    Route("/channels/sms/delivery", sms.delivery, name="channel_sms_delivery"),
]
