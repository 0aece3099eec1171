"""The Flask app factory."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from api import logs
from api.queue import JobQueue
from api.services.inventory import InventoryWatcher
from api.settings import Settings
from api.web import audit, auth, body, errors, metrics
from api.web.context import close_db
from api.web.contract import ContractPlugin
from api.web.envelope import REQUEST_ID_HEADER, ErrorEnvelopeSchema, bind_request_id, request_id
from api.web.resources import BLUEPRINTS

# Swagger UI's JS and CSS, from the swagger-ui-bundle package: the page works offline.
SWAGGER_UI_ASSETS = "/api/v1/docs/assets/"


def swagger_ui_asset(filename: str) -> Response:
    """One file of the installed swagger-ui-bundle (JS, CSS, icons)."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=3600)


class VirtFlowApi(Api):  # type: ignore[misc]
    """flask-smorest Api whose HTTP errors (404, 405, 422 ...) use the VirtFlow envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema
    # Every error an operation can answer is listed by the contract plugin; nothing else.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> tuple[Response, int]:
        return errors.handle_http_exception(error)

    def _register_swagger_ui_rule(self, blueprint: Blueprint) -> None:
        """The page, and its assets beside it on the docs blueprint (public like the page)."""
        super()._register_swagger_ui_rule(blueprint)
        blueprint.add_url_rule(
            "/docs/assets/<path:filename>", "swagger_ui_assets", view_func=swagger_ui_asset
        )


def _openapi_config() -> dict[str, Any]:
    return {
        "API_TITLE": "VirtFlow",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs/",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_ASSETS,
        # No online validator badge: the page reaches nothing but this API.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
        "API_SPEC_OPTIONS": {
            "info": {"description": "Multi-tenant VMs on baremetal KVM hosts, driven by Ansible."},
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    }


def _stamp_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API app; refuses to start with a weak JWT secret."""
    settings = settings or Settings.from_env()
    settings.check_serving()
    logs.configure(settings.log_level, settings.log_format)
    app = Flask("virtflow")
    app.json = body.BoundedJSONProvider(app)
    app.wsgi_app = body.ChunkedBody(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # Only the hops we run ourselves: a client cannot forge its address past them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.config.update(_openapi_config(), MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["virtflow_settings"] = settings
    app.extensions["virtflow_queue"] = JobQueue(settings)
    app.extensions["virtflow_inventory"] = InventoryWatcher(
        settings.inventory_path, settings.capacity_policy
    )
    app.url_map.strict_slashes = False  # /api/v1/vm and /api/v1/vm/ both answer, no redirect
    metrics.init_app(app, settings)  # first: its request timer wraps every other hook
    app.before_request(bind_request_id)
    app.before_request(audit.begin)  # before any check, so refusals are audited too
    auth.init_jwt(app, settings)
    app.before_request(body.check_request)  # after the token check: a 415 row names its actor
    api = VirtFlowApi(app, spec_kwargs={"extra_plugins": [ContractPlugin(app)]})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    errors.register(app)
    app.after_request(audit.record_refusal)
    app.after_request(_stamp_request_id)
    app.teardown_appcontext(close_db)
    return app
