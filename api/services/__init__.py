"""Domain logic with no Flask: callers own the transaction, services only flush."""
