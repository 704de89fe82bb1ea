"""OpenAPI: every operation documents its error responses, all with the one error shape."""

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error: `{"detail": "...", "errors": {"field": ["message"]}}` (dotted paths for nested fields).',
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
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "409": "Valid, but refused by the current state (e.g. the subject's status).",
    "413": "The request body is larger than the server accepts.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


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
    return result
