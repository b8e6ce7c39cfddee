"""The OpenAPI document: published, browsable, every endpoint with its error responses."""


def test_the_spec_is_served_and_lists_the_endpoints(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"] and "/api/v1/auth/login" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_every_operation_documents_an_error_response_as_problem_json(client):
    spec = client.get("/openapi.json").get_json()
    responses = spec["components"]["responses"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = {code: r for code, r in op["responses"].items() if code == "default" or code[0] in "45"}
            assert errors, f"{method.upper()} {path} documents no error response"
            for r in errors.values():
                if "$ref" in r:
                    r = responses[r["$ref"].rsplit("/", 1)[-1]]
                assert "application/problem+json" in r.get("content", {}), f"{method.upper()} {path}"


def test_authenticated_operations_declare_bearer_security_and_401(client):
    spec = client.get("/openapi.json").get_json()
    me = spec["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert "401" in me["responses"]


def test_the_docs_page_is_browsable(client):
    resp = client.get("/docs")
    assert resp.status_code == 200 and b"swagger" in resp.data.lower()
