"""The Flask application: configuration, database session, auth, errors and the API's blueprints."""

from __future__ import annotations

import http
import logging

from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix

from evidence.memory import keep_image_buffers
from schemas.common import GeoJSONGeometry, ProblemSchema

from .auth import init_auth
from .bodies import BodyGuardDoc, init_json_guard
from .clock import init_clock
from .compression import init_compression, init_request_inflation
from .config import load_config
from .db import UnitOfWorkFlask, init_db
from .errors import PROBLEM_MIME, register_error_handlers
from .idempotency import init_idempotency
from .json_provider import OrjsonProvider
from .swagger_ui import init_swagger_ui

API_VERSION = "1"


class FieldwatchApi(Api):
    """flask-smorest's Api with problem+json documented as the body of every error response."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIME)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self):
        # api/errors.py registers the handlers: every error is a problem document.
        pass


def create_app(config_overrides: dict | None = None, *, session_factory=None) -> UnitOfWorkFlask:
    """Build the app from the environment's configuration and ``config_overrides``.

    Tests pass a ``session_factory`` bound to their transaction.
    """
    config = load_config(**(config_overrides or {}))
    app = UnitOfWorkFlask(__name__)  # one unit of work per request: api/db.py
    app.config.update(config)
    app.config.update(
        API_TITLE="fieldwatch",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=init_swagger_ui(app),
        API_SPEC_OPTIONS={
            "info": {"description": "Field inspections, undercover visits, monitoring points and "
                                    "accountability cases of a district supervision office."},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "Token from POST /api/v1/auth/login, one per device"}}},
        },
        MAX_CONTENT_LENGTH=None,
    )
    app.json = OrjsonProvider(app)
    if config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config["TRUSTED_PROXIES"], x_proto=1, x_host=1)
    if session_factory is not None:
        app.extensions["SESSION_FACTORY"] = session_factory
    if not app.config["SECRET_KEY"]:
        import secrets
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    # A first view derives its photo in this process: keep the image buffers for the next one, as
    # the derive worker does (evidence/memory.py), or each photo faults its buffers in again.
    keep_image_buffers()
    init_db(app)
    init_clock(app)
    init_compression(app)  # first: its after_request runs last, on the final body
    init_request_inflation(app, max(app.config["MAX_JSON_BYTES"], app.config["BATCH_MAX_BYTES"]))
    init_auth(app)
    init_json_guard(app)
    init_idempotency(app)  # after the JSON guard: a refused body claims no key
    register_error_handlers(app)

    api = FieldwatchApi(app, spec_kwargs={"extra_plugins": [BodyGuardDoc()]})
    api.register_field(GeoJSONGeometry, "object", None)
    from . import (
        accounts, approvals, batches, calendar, callbacks, cases, commitments, complaints, custody, directory, enterprises,
        evaluations, evidence, exports, figures, health, inspections, jurisdictions, leader_visits,
        monitoring_points, persons, public_complaints, records, reviews, service, service_visits, squads, sync,
        units, uploads, users, visits,
    )

    for module in (health, accounts, users, jurisdictions, calendar, reviews,
                   units, persons, enterprises, monitoring_points, squads, directory, sync,
                   exports, records, batches, inspections, visits, callbacks, leader_visits, cases, evaluations, evidence,
                   uploads, figures, custody, approvals, commitments, service, service_visits, complaints,
                   public_complaints):
        api.register_blueprint(module.blp)
    app.extensions["smorest_api"] = api
    # Open311 GeoReport v2: its own contract (form bodies, .json/.xml), outside the OpenAPI document.
    from .open311 import bp as open311

    app.register_blueprint(open311)
    # The console and the public pages (docs/console.md): the one place that imports web/.
    from web import init_web

    init_web(app)
    logging.getLogger("fieldwatch").setLevel(logging.INFO)
    # Mapper configuration (about a second of CPU) at start-up, not in a worker's first requests.
    configure_mappers()
    return app
