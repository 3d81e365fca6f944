"""JWT verification against real keys: an HS256 secret, and RS256/ES256 public
keys served as a JWKS over real HTTP by a small local server (also as an
OpenID Connect discovery document), including rotation by ``kid``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OctKey, RSAKey

from graph.errors import Unauthenticated
from graphql_api.jwt_auth import ClaimNames, JwtConfig, JwtVerifier

SECRET = "a-shared-secret-of-enough-length-for-hs256"


class KeyServer:
    """Serves ``/jwks.json`` and ``/.well-known/openid-configuration``; counts JWKS fetches."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/jwks.json":
                    server.fetches += 1
                    body: dict[str, Any] = {"keys": [k.as_dict(private=False) for k in server.keys]}
                elif self.path == "/.well-known/openid-configuration":
                    body = {"issuer": server.url, "jwks_uri": f"{server.url}/jwks.json"}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


def rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def ec(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "user-1",
        "iss": "https://issuer.example",
        "aud": "agentmem",
        "exp": now + 300,
        "iat": now,
        "tenant": "acme",
        "roles": ["reader", "writer"],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def sign(key: Key, alg: str, **overrides: Any) -> str:
    header = {"alg": alg}
    if key.kid:
        header["kid"] = key.kid
    return jwt.encode(header, claims(**overrides), key)


def hs256(**overrides: Any) -> str:
    return sign(OctKey.import_key(SECRET), "HS256", **overrides)


HS_CONFIG = JwtConfig(secret=SECRET, issuer="https://issuer.example", audience="agentmem")


async def test_a_valid_hs256_token_becomes_a_principal() -> None:
    principal = await JwtVerifier(HS_CONFIG).verify(hs256(agent_id="agt_1", scope="a b"))
    assert principal.subject == "jwt:user-1" and principal.tenant == "acme"
    assert principal.roles == {"reader", "writer"} and principal.scopes == {"a", "b"}
    assert principal.agent_id == "agt_1" and principal.user_id is None
    assert principal.kind == "jwt" and principal.expires_at is not None


async def test_claim_names_are_configurable() -> None:
    names = ClaimNames(tenant="org", roles="groups", user_id="uid")
    config = JwtConfig(secret=SECRET, claims=names)
    token = hs256(org="globex", groups="admin", uid="u-9", tenant=None, roles=None)
    principal = await JwtVerifier(config).verify(token)
    assert (principal.tenant, principal.roles, principal.user_id) == ("globex", {"admin"}, "u-9")


@pytest.mark.parametrize(
    ("description", "token"),
    [
        ("expired", lambda: hs256(exp=int(time.time()) - 120)),
        ("not yet valid", lambda: hs256(nbf=int(time.time()) + 120)),
        ("wrong audience", lambda: hs256(aud="someone-else")),
        ("wrong issuer", lambda: hs256(iss="https://evil.example")),
        ("no expiry", lambda: hs256(exp=None)),
        ("no tenant", lambda: hs256(tenant=None)),
        ("no subject", lambda: hs256(sub=None)),
        (
            "bad signature",
            lambda: sign(OctKey.import_key("another-secret-value-entirely"), "HS256"),
        ),
        ("tampered", lambda: hs256()[:-3] + "abc"),
        ("not a jwt", lambda: "not.a.jwt"),
        ("alg none", lambda: "eyJhbGciOiJub25lIn0." + hs256().split(".")[1] + "."),
    ],
)
async def test_invalid_tokens_are_unauthenticated(description: str, token: Any) -> None:
    with pytest.raises(Unauthenticated):
        await JwtVerifier(HS_CONFIG).verify(token())


async def test_small_clock_skew_is_within_the_leeway() -> None:
    now = int(time.time())
    token = hs256(exp=now - 5, nbf=now + 5)
    assert (await JwtVerifier(HS_CONFIG).verify(token)).tenant == "acme"


async def test_rs256_keys_come_from_a_jwks_url(key_server: KeyServer) -> None:
    key = rsa("rsa-1")
    key_server.keys = [key]
    config = JwtConfig(jwks_url=f"{key_server.url}/jwks.json", audience="agentmem")
    verifier = JwtVerifier(config)
    assert (await verifier.verify(sign(key, "RS256"))).tenant == "acme"
    with pytest.raises(Unauthenticated):  # a key the JWKS does not hold
        await verifier.verify(sign(rsa("rsa-1"), "RS256"))


async def test_es256_keys_come_from_oidc_discovery(key_server: KeyServer) -> None:
    key = ec("ec-1")
    key_server.keys = [key]
    verifier = JwtVerifier(JwtConfig(issuer=key_server.url))
    principal = await verifier.verify(sign(key, "ES256", iss=key_server.url))
    assert principal.roles == {"reader", "writer"}
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(key, "ES256", iss="https://issuer.example"))


async def test_keys_rotate_by_kid_without_a_restart(key_server: KeyServer) -> None:
    old, new = rsa("2024"), rsa("2025")
    key_server.keys = [old]
    verifier = JwtVerifier(JwtConfig(jwks_url=f"{key_server.url}/jwks.json", refresh_seconds=0))
    assert await verifier.verify(sign(old, "RS256"))
    key_server.keys = [new]  # the issuer rotated
    assert (await verifier.verify(sign(new, "RS256"))).subject == "jwt:user-1"
    assert key_server.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(key_server: KeyServer) -> None:
    key = rsa("known")
    key_server.keys = [key]
    verifier = JwtVerifier(JwtConfig(jwks_url=f"{key_server.url}/jwks.json", refresh_seconds=60))
    await verifier.verify(sign(key, "RS256"))
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await verifier.verify(sign(rsa("unknown"), "RS256"))
    assert key_server.fetches == 1


async def test_an_hmac_token_is_refused_when_only_public_keys_are_configured(
    key_server: KeyServer,
) -> None:
    key = rsa("r")
    key_server.keys = [key]
    verifier = JwtVerifier(JwtConfig(jwks_url=f"{key_server.url}/jwks.json"))

    # The classic confusion attack: HMAC-sign with the public key's bytes.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = ".".join(
        b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "kid": "r"}, claims())
    )
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)


async def test_an_unreachable_jwks_is_unauthenticated_not_an_error() -> None:
    verifier = JwtVerifier(JwtConfig(jwks_url="http://127.0.0.1:9/jwks.json"))
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(rsa("x"), "RS256"))
