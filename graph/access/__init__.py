"""Access control for the domain: who is calling (:class:`Principal`), what
they may do (policy), which personal data they may see (PII masking) and the
audit trail. Pure code: transports resolve credentials into a Principal."""
