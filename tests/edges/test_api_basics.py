"""The API's envelope: request ids, JSON errors for unknown routes, the OpenAPI document."""

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
    assert document["openapi"].startswith("3.")
    docs = await client.get("/api/v1/docs")
    assert docs.status == 200
    assert "swagger-ui" in await docs.text()
    asset = await client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert asset.status == 200
