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


def _asset_urls(html: str) -> list[str]:
    import re

    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_page_loads_swagger_ui_from_the_app_itself_not_a_cdn(client):
    # An offline government intranet reaches no CDN: /docs was a blank page there.
    html = client.get("/docs").get_data(as_text=True)
    urls = _asset_urls(html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls) and any(u.endswith(".css") for u in urls)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert resp.mimetype in ("text/javascript", "application/javascript", "text/css"), (url, resp.mimetype)
        assert len(resp.data) > 1000, url
        resp.close()


def test_swagger_ui_renders_openapi_3_1_and_its_licence_is_served(client):
    spec_version = client.get("/openapi.json").get_json()["openapi"]
    bundle = next(u for u in _asset_urls(client.get("/docs").get_data(as_text=True)) if u.endswith("bundle.js"))
    resp = client.get(bundle)
    # Swagger UI before 5.0 refuses an "openapi: 3.1.x" document ("Unable to render this definition").
    assert spec_version.startswith("3.1") and b"openapi: 3.1.0" in resp.data
    resp.close()
    licence = client.get("/docs/static/LICENSE")
    assert licence.status_code == 200 and licence.mimetype == "text/plain"
    assert "Apache License" in licence.get_data(as_text=True)


def test_swagger_ui_url_still_overrides_where_the_assets_come_from(db_url, tmp_path):
    from api import create_app

    app = create_app({"DATABASE_URL": db_url, "EVIDENCE_DIR": str(tmp_path), "SECRET_KEY": "test",
                      "SWAGGER_UI_URL": "https://assets.example.gov.cn/swagger-ui/"})
    try:
        html = app.test_client().get("/docs").get_data(as_text=True)
    finally:
        app.extensions["ENGINE"].dispose()
    assert 'src="https://assets.example.gov.cn/swagger-ui/swagger-ui-bundle.js"' in html
