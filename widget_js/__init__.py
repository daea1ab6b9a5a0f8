"""Makes this folder the package server.widget_js (see setup.py), so the server finds widget.js and
widget.css through importlib.resources both in an editable install and in an installed wheel."""
