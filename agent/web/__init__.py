"""The HTTP server: dashboard, JSON API, websocket, webhooks and media."""
