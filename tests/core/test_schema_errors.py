"""The OpenAPI schema documents every operation's error responses with the one error shape, and string limits."""

import pytest
from django.conf import settings

ERROR_REF = {"$ref": "#/components/schemas/Error"}
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    """The schema as `/api/schema/` serves it (the postprocessing hooks applied)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", method, operation


def test_every_operation_documents_its_error_responses_with_the_error_schema(schema):
    missing = []
    for name, method, operation in operations(schema):
        wanted = ["400", "401", "403", "404", *(["409", "413"] if method in WRITES else [])]
        for code in wanted:
            documented = operation["responses"].get(code, {}).get("content", {}).get("application/json", {})
            if documented.get("schema") != ERROR_REF:
                missing.append(f"{name} {code}")

    assert len(list(operations(schema))) >= 58
    assert missing == []


def test_the_error_schema_is_the_standard_shape(schema):
    error = schema["components"]["schemas"]["Error"]

    assert error["required"] == ["detail", "errors"]
    assert error["properties"]["detail"]["type"] == "string"
    assert error["properties"]["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_read_operations_do_not_claim_a_409(schema):
    assert [name for name, method, op in operations(schema) if method == "get" and "409" in op["responses"]] == []


def _strings_without_limit(node, path=""):
    if isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node and "maxLength" not in node:
            yield path
        for key, value in node.items():
            yield from _strings_without_limit(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings_without_limit(value, f"{path}.{index}")


def test_every_request_string_and_parameter_has_a_max_length(schema):
    requests = {name: c for name, c in schema["components"]["schemas"].items() if name.endswith("Request")}
    parameters = [op.get("parameters", []) for _, _, op in operations(schema)]

    assert list(_strings_without_limit(requests)) == []
    assert list(_strings_without_limit(parameters)) == []
    assert requests["AdverseEventWriteRequest"]["properties"]["treatment"]["maxLength"] == 2000
    assert requests["AuthTokenRequest"]["properties"]["password"]["maxLength"] == settings.API_MAX_STRING_LENGTH
