"""Flask-only glue: app factory, envelope, auth and the REST resources."""
