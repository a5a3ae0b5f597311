"""The Redis key layout: every key valuechain uses, and which Redis Cluster slot it lands in.

Keys (prefix `vc` by default; `KeyLayout` builds every one, nothing else spells a key):
- `vc:{vc}:version`                   the current version id (string)
- `vc:{vc}:versions`                  list of the committed versions, newest first
- `vc:v:<version>:{vc}:meta`          JSON metadata of the version
- `vc:v:<version>:{vc}:rank:<name>`   sorted set, e.g. churn risk
- `vc:v:<version>:c:{<customer_id>}`  hash of a customer: `f` features (JSON), `v` value-table row
                                      (JSON), `r:<name>` recommender state fields (bytes)
- `vc:ev:{<customer_id>}`             list of recent events, newest first (capped, with a TTL)
- `vc:events`                         stream of every accepted event (durable; read by the
                                      exporter through the consumer group `export`, trimmed once
                                      exported)
- `vc:apikeys`                        hash: API key name -> JSON {sha256, role, created}
- `vc:rl:{...}`                       rate-limit counters (written by the `limits` library)

Braces are Redis Cluster hash tags: when a key holds `{...}`, only the text inside picks its slot,
and every multi-key transaction keeps to one tag. On a single Redis server they are just
characters, so one layout serves both.
- `{vc}` holds the version pointer, the committed list and each version's metadata and rankings:
  a commit is one transaction in one slot, and the node that has the new pointer has that
  version's metadata (written to the same master before it, replicated in that order).
- `{<customer_id>}` holds a customer's cache hash and recent events: reading a customer is one
  round trip to one node, and customers spread over every slot and so over every master.
- The events stream, the API keys and each rate-limit counter are single keys in slots of their
  own; `limits` tags its two sliding-window keys alike itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyLayout:
    """Every Redis key valuechain uses, under one prefix (the module docstring lists them).

    Prefix, version ids and ranking names hold no braces (they would move the hash tag); a
    customer id may: the braces around it come first, so Redis takes the tag from those."""

    prefix: str = "vc"

    @property
    def version(self) -> str:
        return f"{self.prefix}:{{{self.prefix}}}:version"

    @property
    def versions(self) -> str:
        return f"{self.prefix}:{{{self.prefix}}}:versions"

    def meta(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:{{{self.prefix}}}:meta"

    def ranking(self, version: str, name: str) -> str:
        return f"{self.prefix}:v:{version}:{{{self.prefix}}}:rank:{name}"

    def customer(self, version: str, customer_id: str) -> str:
        return f"{self.prefix}:v:{version}:c:{{{customer_id}}}"

    def version_pattern(self, version: str) -> str:
        """SCAN pattern of every key of one version (customers, metadata, rankings)."""
        return f"{self.prefix}:v:{version}:*"

    def events(self, customer_id: str) -> str:
        return f"{self.prefix}:ev:{{{customer_id}}}"

    @property
    def events_stream(self) -> str:
        return f"{self.prefix}:events"

    @property
    def api_keys(self) -> str:
        return f"{self.prefix}:apikeys"

    @property
    def rate_limits(self) -> str:
        return f"{self.prefix}:rl"
