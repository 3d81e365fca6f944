"""The GraphiQL page, opened on an example that runs against an empty server."""

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


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    literal = "const EXAMPLE_QUERY = `" + EXAMPLE.replace("`", "\\`") + "`;"
    return _EXAMPLE_LITERAL.sub(lambda _: literal, html, count=1)
