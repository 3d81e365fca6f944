"""The GraphiQL page, opened on an example that runs against an empty server.

The page needs no credentials; its queries do. The headers editor opens
first, with an ``Authorization`` header to fill in, and subscriptions send
the edited headers as the WebSocket ``connection_init`` payload.
"""

from __future__ import annotations

import re

from strawberry.http.ides import get_graphql_ide_html

EXAMPLE = """# AgentMem: a memory graph for AI agents.
# Run this, then try search, related(depth:) and the memoryEvents subscription.
mutation Remember {
  addMemory(input: {content: "The user prefers dark roast coffee", type: SEMANTIC,
                    tags: ["preferences"]}) {
    id
    version
  }
}

query Recall {
  search(query: "What drink does the user like?", limit: 5) {
    score
    keywordScore
    vectorScore
    memory { id content type level tags createdAt }
  }
  memories(first: 10) {
    totalCount
    edges { cursor node { id content version } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

_EXAMPLE_LITERAL = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
_FETCHER = re.compile(r"const fetcher = GraphiQL\.createFetcher\(\{.*?\}\);", re.DOTALL)
_HEADERS_STATE = "React.useState(parameters.headers)"
_TOOLS_VISIBLE = "defaultEditorToolsVisibility: true"

HEADERS_TEMPLATE = '{"Authorization": "Bearer <paste an API key>"}'

_FETCHER_WITH_CREDENTIALS = """const fetcher = (params, options) =>
        GraphiQL.createFetcher({
          url: fetchURL,
          headers: defaultHeaders,
          subscriptionUrl,
          wsConnectionParams: (options && options.headers) || {},
        })(params, options);"""


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    literal = "const EXAMPLE_QUERY = `" + EXAMPLE.replace("`", "\\`") + "`;"
    html = _EXAMPLE_LITERAL.sub(lambda _: literal, html, count=1)
    html = _FETCHER.sub(lambda _: _FETCHER_WITH_CREDENTIALS, html, count=1)
    default_headers = f"React.useState(parameters.headers || {HEADERS_TEMPLATE!r})"
    html = html.replace(_HEADERS_STATE, default_headers)
    return html.replace(_TOOLS_VISIBLE, 'defaultEditorToolsVisibility: "headers"')
