"""The local browser (``parameter_statistic_DB.py serve``): the dashboard, search with facets
and thumbnails, one page per image, a JSON API; read only, bound to 127.0.0.1 by default.

* ``app``: the Flask app and its routes (host check, headers, read-only connections);
* ``queries``: pages of hits, facets, one image's details;
* ``links``: the search-language query behind every shown value;
* ``state``: the database's state, the key of the dashboard's cache;
* ``server``: waitress in front of the app.
"""
from .app import create_app
from .server import DEFAULT_HOST, DEFAULT_PORT, ServerPlan, make_server, plan

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServerPlan", "create_app", "make_server", "plan"]
