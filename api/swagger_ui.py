"""Swagger UI's scripts and styles for /docs, served by the app itself from the swagger-ui-bundle-v2 package.

An office intranet reaches no CDN: /docs loaded Swagger UI from one and was a blank page
there. The package ships swagger-ui-dist's files (Apache-2.0); its licence is served
beside them at ``/docs/static/LICENSE``. ``SWAGGER_UI_URL`` still points /docs elsewhere.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, Response

#: The PyPI distribution the assets come from (its module is ``swagger_ui_bundle``).
DISTRIBUTION = "swagger-ui-bundle-v2"
#: Where /docs finds them when SWAGGER_UI_URL is empty.
STATIC_URL = "/docs/static/"
ASSETS = Path(str(swagger_ui_bundle.swagger_ui_path))

blp = Blueprint("swagger_ui", __name__, static_folder=str(ASSETS), static_url_path=STATIC_URL.rstrip("/"))


@blp.route(STATIC_URL + "LICENSE")
def licence() -> Response:
    """The licence of the served Swagger UI files, as the package ships it."""
    text = metadata.distribution(DISTRIBUTION).read_text("licenses/LICENSE") or ""
    return Response(text, mimetype="text/plain")


def init_swagger_ui(app: Flask) -> str:
    """Serve the assets unless SWAGGER_UI_URL names another place; the URL /docs loads them from."""
    configured = app.config["SWAGGER_UI_URL"]
    if configured:
        return configured if configured.endswith("/") else configured + "/"
    app.register_blueprint(blp)
    return STATIC_URL
