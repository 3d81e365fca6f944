"""The knowledge vault: ``KNOWLEDGE_VAULT`` content encrypted at rest.

:mod:`graph.vault.keys` holds the key ring, :mod:`graph.vault.cipher` the
AES-256-GCM format, :mod:`graph.vault.store` the store decorator that seals
vault content on its way to any GraphStore and opens it on the way back, and
:mod:`graph.vault.rotation` re-encryption under a new key.
"""
