"""Collections casework: disputes, promises to pay, payment plans, the collector worklist and the
customer timeline (docs/design/collections.md)."""
