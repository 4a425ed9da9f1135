"""Examples for every request and response body the views did not give one.

A postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) walks the finished schema,
so plain APIViews get examples too: each body's schema (its $refs resolved) becomes a realistic
sample — a value per type and format, names that read like a CRM's data, the first of a field's
choices, one item per list, and a paginated list inside its envelope (the paginator's schema).
"""

from decimal import Decimal

JSON = "application/json"
MAX_DEPTH = 6

_BY_FORMAT = {
    "date-time": "2026-03-14T09:30:00+08:00",
    "date": "2026-03-14",
    "time": "09:30:00",
    "duration": "01:30:00",
    "email": "li.wei@example.com",
    "uri": "https://crm.example.com/api/v1/",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "ipv4": "203.0.113.7",
    "ipv6": "2001:db8::7",
    "binary": "(file contents)",
    "byte": "aGVsbG8=",
    "hostname": "crm.example.com",
    "slug": "spring-promotion",
}

# A property's name says what a good sample looks like; the first name that matches wins.
_BY_NAME = [
    (("job_title", "position"), "Purchasing manager"),
    (("external_id",), "ERP-100234"),
    (("product_name",), "CRM Pro seat"),
    (("email",), "li.wei@example.com"),
    (("phone", "mobile"), "+86 138 0013 8000"),
    (("first_name",), "Wei"),
    (("last_name",), "Li"),
    (("username",), "li.wei"),
    (("city",), "Shanghai"),
    (("province", "region", "state"), "Shanghai"),
    (("country",), "CN"),
    (("postal_code", "postcode", "zip"), "200120"),
    (("address", "street"), "88 Century Avenue, Pudong"),
    (("currency",), "CNY"),
    (("language",), "zh-hans"),
    (("timezone", "time_zone"), "Asia/Shanghai"),
    (("color", "colour"), "#2f6fde"),
    (("url", "website", "link"), "https://www.example.com/"),
    (("subject", "title"), "Cannot sign in to the customer portal"),
    (("body", "message", "text", "content", "comment"), "Thanks, we are looking into it."),
    (("description", "note", "notes", "summary"), "Met at the Shanghai trade fair."),
    (("next_step",), "Send the revised quote"),
    (("reason",), "Budget moved to next year"),
    (("tag", "tags"), "vip"),
    (("token", "key", "secret"), "crm_a1b2c3d4_Zx9…"),
    (("prefix",), "a1b2c3d4"),
    (("event", "events"), "customer.created"),
    (("code",), "SPRING26"),
    (("sku",), "CRM-PRO-SEAT"),
    (("industry",), "Retail"),
    (("company_name", "company"), "Lantern Trading Co."),
    (("customer_name",), "Li Wei"),
    (("owner_name", "user_name", "author_name", "display_name", "full_name"), "Zhang Min"),
    (("team_name",), "East sales"),
    (("stage_name", "from_stage_name", "to_stage_name"), "Proposal"),
    (("file", "filename", "file_name"), "customers.csv"),
]

# What `name` reads like on each record type (by its component's name).
_NAMES = {
    "Customer": "Li Wei",
    "Company": "Lantern Trading Co.",
    "Deal": "Lantern annual renewal",
    "Pipeline": "New business",
    "Stage": "Proposal",
    "Product": "CRM Pro seat",
    "Team": "East sales",
    "Segment": "VIP customers in Shanghai",
    "Campaign": "Spring promotion",
    "ApiToken": "Warehouse sync",
    "WebhookSubscription": "ERP sync",
}

_INTEGERS = {
    "version": 3,
    "current_version": 4,
    "probability": 60,
    "age": 34,
    "count": 1,
    "page": 1,
    "page_size": 50,
    "quantity": 2,
    "score": 72,
    "rating": 5,
    "attempt_count": 1,
    "duration_ms": 184,
    "status_code": 200,
    "last_status_code": 200,
}


def _sample_string(name: str, schema: dict, component: str) -> str:
    if name in ("birthday", "date_of_birth"):
        return "1990-05-20"
    if "percent" in name:
        return "10.00"
    if schema.get("format") in _BY_FORMAT:
        return _BY_FORMAT[schema["format"]]
    if schema.get("format") == "decimal" or r"\d" in schema.get("pattern", ""):
        return "1999.00"
    if name == "name":
        return _NAMES.get(component, f"{component or 'Example'} 1")
    for names, sample in _BY_NAME:
        if name in names or any(name.endswith(f"_{candidate}") for candidate in names):
            return sample
    sample = name.replace("_", " ").capitalize() or "Example"
    max_length = schema.get("maxLength")
    return sample[:max_length] if max_length else sample


def _sample_number(name: str, schema: dict, *, integer: bool):
    if integer:
        if name in _INTEGERS:
            value = _INTEGERS[name]
        elif name == "id" or name.endswith("_id"):
            value = 42
        else:
            value = 7
    else:
        value = 12.5 if "percent" not in name else 10.0
    minimum = schema.get("minimum")
    maximum = schema.get("maximum")
    if minimum is not None and value < minimum:
        value = minimum
    if maximum is not None and value > maximum:
        value = maximum
    if isinstance(value, Decimal):
        value = float(value)
    return value


class _Sampler:
    def __init__(self, components: dict, direction: str):
        self.components = components
        self.direction = direction  # "request" or "response"

    def sample(self, schema: dict, *, name: str = "", component: str = "", depth: int = 0):
        if depth > MAX_DEPTH:
            return None
        if "$ref" in schema:
            ref_name = schema["$ref"].rsplit("/", 1)[-1]
            target = self.components.get(ref_name, {})
            return self.sample(target, name=name, component=ref_name, depth=depth + 1)
        if "example" in schema:
            return schema["example"]
        if "default" in schema and schema["default"] not in (None, ""):
            return schema["default"]
        for combinator in ("allOf", "oneOf", "anyOf"):
            if schema.get(combinator):
                if combinator == "allOf":
                    merged: dict = {}
                    for part in schema["allOf"]:
                        value = self.sample(part, name=name, component=component, depth=depth)
                        if not isinstance(value, dict):
                            return value
                        merged |= value
                    return merged
                return self.sample(
                    schema[combinator][0], name=name, component=component, depth=depth
                )
        if "enum" in schema:
            choices = [choice for choice in schema["enum"] if choice not in (None, "")]
            return choices[0] if choices else None
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            return self._sample_object(schema, component=component, depth=depth)
        if kind == "array":
            item = self.sample(
                schema.get("items", {}), name=name, component=component, depth=depth + 1
            )
            return [item] * max(1, schema.get("minItems", 1))
        if kind == "string":
            return _sample_string(name, schema, component)
        if kind == "integer":
            return _sample_number(name, schema, integer=True)
        if kind == "number":
            return _sample_number(name, schema, integer=False)
        if kind == "boolean":
            return not name.startswith(("is_deleted", "is_stale", "read_only"))
        return {} if not name else None

    def _sample_object(self, schema: dict, *, component: str, depth: int) -> dict:
        hidden = "readOnly" if self.direction == "request" else "writeOnly"
        sample = {}
        for name, field in schema.get("properties", {}).items():
            if self._flag(field, hidden):
                continue
            sample[name] = self.sample(field, name=name, component=component, depth=depth + 1)
        extra = schema.get("additionalProperties")
        if not sample and isinstance(extra, dict) and extra:
            sample["key"] = self.sample(extra, name="", component=component, depth=depth + 1)
        return sample

    def _flag(self, schema: dict, flag: str) -> bool:
        if schema.get(flag):
            return True
        if "$ref" in schema:
            return bool(self.components.get(schema["$ref"].rsplit("/", 1)[-1], {}).get(flag))
        return any(self._flag(part, flag) for part in schema.get("allOf", []))


def _has_example(media: dict) -> bool:
    return "example" in media or "examples" in media


def schema_examples_fill(result, generator, request, public):
    """Give every request body and every 2xx JSON response without an example a generated one."""
    components = result.get("components", {}).get("schemas", {})
    requests = _Sampler(components, "request")
    responses = _Sampler(components, "response")
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                if "schema" in media and not _has_example(media):
                    media["example"] = requests.sample(media["schema"])
            for status, response in operation["responses"].items():
                if not str(status).startswith("2"):
                    continue
                media = response.get("content", {}).get(JSON)
                if media and "schema" in media and not _has_example(media):
                    media["example"] = responses.sample(media["schema"])
    return result
