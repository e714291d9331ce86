"""`migration-lab bench`: each suite measures one target of PRODUCT.md, reported as median and p95."""
