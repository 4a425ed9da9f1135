from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):
    """Answers a signed-in browser's ping, so the page can show whether its live connection is up.

    Anonymous connections are closed with 4401, the code every live socket uses for "sign in".
    """

    async def connect(self):
        if not self.scope["user"].is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "id": content.get("id")})
        else:
            await self.send_json({"type": "error", "error": "unknown_type"})
