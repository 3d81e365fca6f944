"""GraphQL over HTTP against a real server: media types, status codes,
GET rules, GraphiQL, error shape, and the headline behaviours."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess

ADD = "mutation($c: String!) { addMemory(input: {content: $c}) { id version } }"


def test_browser_get_serves_graphiql_with_a_runnable_example(server: ServerProcess) -> None:
    page = httpx.get(server.url, headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "graphiql" in page.text.lower()
    assert "What drink does the user like?" in page.text


def test_graphql_response_media_type_is_used_when_accepted(server: ServerProcess) -> None:
    response = post(server, "{ memories { totalCount } }")
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert isinstance(data_of(response)["memories"]["totalCount"], int)


def test_plain_json_clients_get_application_json(server: ServerProcess) -> None:
    response = httpx.post(
        server.url,
        json={"query": "{ memories { totalCount } }"},
        headers={"accept": "application/json", **server.headers},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_invalid_document_is_400_for_graphql_response_clients_and_200_for_json(
    server: ServerProcess,
) -> None:
    modern = post(server, "{ memories { nope } }")
    assert modern.status_code == 400
    assert modern.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    legacy = httpx.post(
        server.url,
        json={"query": "{ memories { nope } }"},
        headers={"accept": "application/json", **server.headers},
    )
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_unparsable_body_is_a_json_400_with_a_code(server: ServerProcess) -> None:
    response = httpx.post(
        server.url,
        content=b"{not json",
        headers={
            "content-type": "application/json",
            "accept": "application/graphql-response+json",
            **server.headers,
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_queries_work_over_get_but_mutations_do_not(server: ServerProcess) -> None:
    query = httpx.get(
        server.url,
        params={"query": "{ memories { totalCount } }"},
        headers={"accept": "application/graphql-response+json", **server.headers},
    )
    assert query.status_code == 200 and "data" in query.json()
    before = data_of(post(server, "{ memories { totalCount } }"))["memories"]["totalCount"]
    mutation = httpx.get(
        server.url,
        params={"query": 'mutation { addMemory(input: {content: "via get"}) { id } }'},
        headers={"accept": "application/graphql-response+json", **server.headers},
    )
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"
    assert data_of(post(server, "{ memories { totalCount } }"))["memories"]["totalCount"] == before


def test_stale_expected_version_answers_conflict_and_changes_nothing(server: ServerProcess) -> None:
    memory = data_of(post(server, ADD, {"c": "e2e conflict subject"}))["addMemory"]
    update = "mutation($id: ID!, $c: String!, $v: Int) { updateMemory(id: $id, input: {content: $c}, expectedVersion: $v) { version } }"
    assert data_of(post(server, update, {"id": memory["id"], "c": "second", "v": 1}))
    stale = post(server, update, {"id": memory["id"], "c": "third", "v": 1})
    assert stale.status_code == 200
    error = stale.json()["errors"][0]
    assert error["extensions"]["code"] == "CONFLICT"
    assert "Traceback" not in stale.text
    read = data_of(
        post(
            server, "query($id: ID!) { memory(id: $id) { content version } }", {"id": memory["id"]}
        )
    )
    assert read["memory"] == {"content": "second", "version": 2}


def test_a_paraphrase_with_no_shared_keywords_is_found_first_by_vector_search(
    server: ServerProcess,
) -> None:
    corpus = [
        "The user prefers dark roast coffee",
        "Quarterly revenue grew by eight percent",
        "The cat sleeps on the windowsill all afternoon",
        "Deploy the service with a blue-green strategy",
    ]
    for text in corpus:
        data_of(post(server, ADD, {"c": text}))
    search = "query($q: String!) { search(query: $q, mode: VECTOR, limit: 3) { vectorScore memory { content } } }"
    hits = data_of(post(server, search, {"q": "What drink does the user like?"}))["search"]
    assert hits[0]["memory"]["content"] == "The user prefers dark roast coffee"
    hits = data_of(post(server, search, {"q": "Which animal naps by the window?"}))["search"]
    assert hits[0]["memory"]["content"] == "The cat sleeps on the windowsill all afternoon"


def test_readyz_lists_each_dependency_and_the_index_outbox(server: ServerProcess) -> None:
    response = httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["dependencies"]) == {"graph", "search", "events", "cache"}
    assert all(d["status"] == "ok" for d in body["dependencies"].values())
    assert body["index_outbox"]["depth"] >= 0
