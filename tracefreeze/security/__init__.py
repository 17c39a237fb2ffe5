"""Keys and cryptography: answer signing and verification, the payload codec and its
server, TLS for Temporal, Kafka SASL/ACLs, and the opaque ids of ex parte requests."""
