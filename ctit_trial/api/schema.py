"""OpenAPI: every operation documents its error responses with the one error shape, and every string its limit."""

from django.conf import settings

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: `detail`, one sentence, and `errors`, the messages per field (dotted when nested).",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, naming the first field at fault."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field; `non_field_errors` for the request as a whole.",
        },
    },
    "required": ["detail", "errors"],
}
READ_ERRORS = {
    "400": "Invalid input (body, query parameter or path): `errors` names each field.",
    "401": "Not authenticated: log in or send `Authorization: Token <token>`.",
    "403": "Your role does not allow this.",
    "404": "Not found, or not at one of your sites.",
    "429": "Too many requests: try again after the `Retry-After` seconds.",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "409": "Valid, but refused by the current state (e.g. the subject's status).",
    "413": "The request body is larger than the server accepts.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _cap_strings(node, cap: int) -> None:
    """Give every string without a maxLength the parser's cap (ctit_trial.api.parsers), which applies to it."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if current.get("type") == "string" and "enum" not in current and "maxLength" not in current:
                current["maxLength"] = cap
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error responses, referencing the Error schema, everywhere."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            errors = WRITE_ERRORS if method in WRITE_METHODS else READ_ERRORS
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(code, {"description": description})["content"] = reference
            _cap_strings(operation.get("parameters", []), settings.API_MAX_STRING_LENGTH)
    for name, component in result["components"]["schemas"].items():
        if name.endswith("Request"):  # request components (COMPONENT_SPLIT_REQUEST); responses are not capped
            _cap_strings(component, settings.API_MAX_STRING_LENGTH)
    return result
