"""The web app: server-rendered pages (Jinja, htmx) over the same domain functions as the
JSON API, and one small ES module that streams chat answers from that API."""
