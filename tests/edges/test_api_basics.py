"""The API's envelope: request ids, JSON errors for unknown routes, the OpenAPI document."""

from openapi_spec_validator import validate

from shop.observability import REQUEST_ID_HEADER


async def test_unknown_route_is_a_json_404_with_a_request_id(client):
    # when
    response = await client.get("/api/v1/no-such-thing")
    # then
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert len(response.headers[REQUEST_ID_HEADER]) >= 8


async def test_a_sane_incoming_request_id_is_echoed(client):
    response = await client.get("/api/v1/openapi.json", headers={REQUEST_ID_HEADER: "abc12345-x"})
    assert response.headers[REQUEST_ID_HEADER] == "abc12345-x"


async def test_openapi_document_and_docs_page_are_served(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    validate(document)  # a valid OpenAPI 3 document, every reference resolvable
    assert {"/api/v1/auth/login", "/api/v1/auth/phone", "/api/v1/me", "/api/v1/categories"} <= set(
        document["paths"]
    )
    sort = next(p for p in document["paths"]["/api/v1/products"]["get"]["parameters"] if p["name"] == "sort")
    assert document["components"]["schemas"]["SortOrder"]["enum"] == [
        "relevance",
        "price_asc",
        "price_desc",
        "sales",
        "newest",
    ]
    assert sort["schema"]["$ref"] == "#/components/schemas/SortOrder"
    docs = await client.get("/api/v1/docs")
    assert docs.status == 200
    assert "swagger-ui" in await docs.text()
    asset = await client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert asset.status == 200


async def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(client):
    response = await client.delete("/api/v1/categories")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_an_oversized_api_body_is_refused_before_it_is_read(client):
    # the app accepts large admin uploads, but the API takes small JSON only
    response = await client.post(
        "/api/v1/auth/login",
        data=b"{" + b" " * (1024**2 + 10) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"
