"""The inbound channels' URLs. The SMS gateway's is in its kannel.conf (or playSMS's
configuration), so the path is a contract like a poster's."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.channels import national, sms, whatsapp

routes: list[Route | Mount] = [
    Route("/channels/sms", sms.inbound, methods=["GET", "POST"], name="channel_sms"),
    # Registered with Meta as the app's webhook callback URL: keep it.
    Route("/channels/whatsapp", whatsapp.webhook, methods=["GET", "POST"], name="channel_whatsapp"),
    Route("/channels/sms/delivery", sms.delivery, name="channel_sms_delivery"),
    # Given to the national portal SP4N-LAPOR! with the shared secret: keep it.
    Route("/channels/national", national.callback, methods=["POST"], name="channel_national"),
]
