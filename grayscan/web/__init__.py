"""``grayscan serve``: a local web app for reviewing the takedown queue, over the ``takedown`` API.

Starlette + Jinja2 (autoescaping on), plain forms and one small hand-written script for keyboard
review; templates and static files ship inside this package, nothing is fetched from a network.
"""
