"""VirtFlow API process and shared domain (models, services, settings)."""
