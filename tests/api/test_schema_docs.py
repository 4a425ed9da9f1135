"""The OpenAPI schema documents every operation (summary, errors, examples) and the interactive
docs page works under the content security policy with the bundled (sidecar) assets."""

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from crm.api.schema import first_sentence
from crm.security import CONTENT_SECURITY_POLICY

ERROR_REF = "#/components/schemas/Error"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in METHODS:
                yield path, method, operation


def failures(schema: dict, check) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if not check(path, method, operation)
    ]


def has_example(media: dict) -> bool:
    return bool(media.get("example") is not None or media.get("examples"))


@pytest.mark.django_db
def test_schema_generates_without_warnings_or_errors_and_validates(tmp_path):
    # Given the project's views
    GENERATOR_STATS.reset()
    # When the schema is generated as CI does, failing on any warning
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    # Then it is written (and valid OpenAPI 3)
    assert target.read_text().startswith("openapi: 3")


def test_every_operation_has_a_summary(schema):
    # Given the schema, then every operation says in a line what it does
    missing = failures(schema, lambda path, method, operation: operation.get("summary"))
    assert missing == []


def test_derived_summaries_name_the_action_and_the_record(schema):
    # Given the CRUD operations of a viewset with no summary of its own
    paths = schema["paths"]
    # Then their summaries come from the action and the model's verbose names
    assert paths["/api/v1/customers/"]["get"]["summary"] == "List customers"
    assert paths["/api/v1/deals/"]["post"]["summary"] == "Create a deal"
    assert paths["/api/v1/tickets/{id}/"]["get"]["summary"] == "Retrieve a ticket"
    assert paths["/api/v1/customers/{id}/"]["patch"]["summary"] == "Update a customer (partial)"
    assert paths["/api/v1/tasks/{id}/"]["delete"]["summary"] == "Delete a task"
    assert paths["/api/v1/sla-policies/"]["post"]["summary"] == "Create an SLA policy"
    # And a custom action's from its docstring's first sentence
    assert paths["/api/v1/tickets/{id}/resolve/"]["post"]["summary"] == "Resolve the ticket"


def test_first_sentence_skips_usage_lines_and_open_parentheses():
    usage = "GET /api/v1/x/?a=\n\nThe figures as JSON. More."
    assert first_sentence(usage) == "The figures as JSON"
    assert first_sentence("Hand the ticket to someone (null: nobody); they are told.") == (
        "Hand the ticket to someone"
    )


def test_every_request_body_has_an_example(schema):
    def check(path, method, operation):
        content = operation.get("requestBody", {}).get("content", {})
        return all(has_example(media) for media in content.values())

    assert failures(schema, check) == []


def test_every_successful_json_response_has_an_example(schema):
    def check(path, method, operation):
        return all(
            has_example(response["content"]["application/json"])
            for status, response in operation["responses"].items()
            if status.startswith("2") and "application/json" in response.get("content", {})
        )

    assert failures(schema, check) == []


def error_documented(operation: dict, status: str) -> bool:
    media = operation["responses"].get(status, {}).get("content", {}).get("application/json", {})
    return media.get("schema") == {"$ref": ERROR_REF} and has_example(media)


def test_every_operation_documents_its_errors_with_the_one_error_shape(schema):
    def check(path, method, operation):
        statuses = ["429"]
        if {} not in operation.get("security", []):
            statuses += ["401", "403"]
        if "{" in path:
            statuses.append("404")
        if "requestBody" in operation:
            statuses.append("400")
        return all(error_documented(operation, status) for status in statuses)

    assert failures(schema, check) == []


def test_error_component_is_the_api_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    detail_ref = error["properties"]["error"]["$ref"].rsplit("/", 1)[-1]
    detail = schema["components"]["schemas"][detail_ref]
    assert set(detail["required"]) == {"code", "message", "fields"}
    assert "current_version" in detail["properties"]


def test_versioned_changes_and_actions_document_a_conflict_with_the_current_version(schema):
    # Given a versioned record's update and a business action
    patch = schema["paths"]["/api/v1/deals/{id}/"]["patch"]
    move = schema["paths"]["/api/v1/deals/{id}/move/"]["post"]
    # Then both document 409, the update's example carrying the record's current version
    assert error_documented(patch, "409")
    assert error_documented(move, "409")
    example = patch["responses"]["409"]["content"]["application/json"]["example"]
    assert example["error"]["code"] == "conflict"
    assert isinstance(example["error"]["current_version"], int)
    # And 429 says when to come back
    assert "Retry-After" in patch["responses"]["429"]["headers"]


def test_generated_examples_follow_the_serializer(schema):
    # Given the customers' list and create operations
    customers = schema["paths"]["/api/v1/customers/"]
    listed = customers["get"]["responses"]["200"]["content"]["application/json"]["example"]
    # Then the list example sits in the paginator's envelope with one realistic item
    assert "results" in listed and len(listed["results"]) == 1
    item = listed["results"][0]
    assert item["email"] == "li.wei@example.com"
    assert item["status"] == "lead"  # the first choice
    assert isinstance(item["id"], int)
    # And a generated request example leaves read-only fields out
    update = schema["paths"]["/api/v1/deals/{id}/"]["put"]["requestBody"]["content"]
    body = update["multipart/form-data"]["example"]
    assert "version" in body and "created_at" not in body and "id" not in body


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/v1/customers/", "post", "A new lead"),
        ("/api/v1/customers/{id}/", "patch", "Promote to VIP and hand over"),
        ("/api/v1/deals/{id}/move/", "post", "Mark as lost"),
        ("/api/v1/tickets/", "post", "A customer cannot sign in"),
    ],
)
def test_main_integrator_calls_have_hand_written_examples(schema, path, method, expected):
    content = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
    summaries = [example["summary"] for example in content["examples"].values()]
    assert expected in summaries


def test_schema_endpoint_answers(rep_client):
    # When a signed-in integrator asks for the schema
    response = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # Then it is the OpenAPI document
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/v1/customers/" in response.json()["paths"]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.assets.append(attributes["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])


def test_docs_page_works_under_the_content_security_policy(rep_client):
    # When the interactive docs are opened
    response = rep_client.get("/api/v1/docs/")
    # Then the page is served under the site's policy, with no inline script to be blocked
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = _Assets()
    page.feed(response.content.decode())
    assert page.inline_scripts == 0
    # And every script and stylesheet it loads comes from our origin and is served
    assert any("swagger-ui" in asset for asset in page.assets)
    for asset in page.assets:
        assert not re.match(r"(https?:)?//", asset), asset
        served = rep_client.get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, asset
