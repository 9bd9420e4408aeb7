"""Who may talk to the HTTP server: the token, the request's origin, one-time login links.

Browsers count every port of a host as the same *site*, so a page served by
another program on 127.0.0.1 gets the dashboard's `SameSite=Strict` cookie on
its requests. The cookie alone therefore proves nothing; a request that rides
on it must also come from the dashboard's own *origin* (scheme, host and port):
its `Origin` and `Sec-Fetch-Site` headers say so, and a write must carry a
custom header that no other origin can add without a CORS preflight, which
this server never grants. The token itself travels only in the Authorization
header or the cookie, never in a URL; the link printed at start is a one-time
login that sets the cookie and redirects to a clean address.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

COOKIE = "homeclaw_token"
# The dashboard's scripts send this on every write; another origin cannot add it
# without a preflight, and the server answers no preflight.
WRITE_HEADER = "X-Homeclaw"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_LINK_TTL = 15 * 60.0

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        # Panels inject their own <style> elements; scripts come only from files.
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Refused(Exception):
    """A request the guard turns away, with the reason logged and answered."""


def is_loopback(host: str) -> bool:
    """Whether a host name or address stands for this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Guard:
    """The server's rules for hosts, origins and the token."""

    token: str
    loopback_only: bool
    public_url: str | None = None
    _links: dict[str, float] = field(default_factory=dict)

    # -- the token -----------------------------------------------------------------

    def bearer(self, request: web.Request) -> bool:
        """Whether the request carries the token in its Authorization header."""
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and self.matches(auth[7:].strip())

    def cookie(self, request: web.Request) -> bool:
        """Whether the request carries the token in the dashboard's cookie."""
        return self.matches(request.cookies.get(COOKIE))

    def matches(self, presented: str | None) -> bool:
        """Whether a presented value is the token (constant time)."""
        return presented is not None and hmac.compare_digest(presented, self.token)

    def set_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        """Give the browser the token as an httpOnly, same-site cookie (Secure over TLS)."""
        secure = request.secure or (self.public_url or "").startswith("https:")
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", secure=secure)

    # -- one-time login links --------------------------------------------------------

    def login_link(self, base_url: str) -> str:
        """A fresh single-use link that logs a browser in (valid for 15 minutes)."""
        now = time.monotonic()
        self._links = {k: v for k, v in self._links.items() if v > now}
        nonce = secrets.token_urlsafe(24)
        self._links[nonce] = now + LOGIN_LINK_TTL
        return f"{base_url.rstrip('/')}/login?once={nonce}"

    def redeem(self, nonce: str) -> bool:
        """Use up a login link; False when unknown, used or expired."""
        expires = self._links.pop(nonce, None)
        return expires is not None and expires > time.monotonic()

    # -- where a request comes from ------------------------------------------------

    def check_host(self, request: web.Request) -> None:
        """On a loopback-only server, refuse Host names that are not this machine.

        A page whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) then
        reaches nothing, not even the login page.
        """
        if not self.loopback_only:
            return
        host = urlsplit(f"//{request.host}").hostname or ""
        public = urlsplit(self.public_url).hostname if self.public_url else None
        if not (is_loopback(host) or (public is not None and host == public.lower())):
            raise Refused(f"host {request.host!r} is not this machine")

    def check_origin(self, request: web.Request) -> None:
        """Refuse a request that a page of another origin made the browser send.

        A top-level GET navigation to a page (a link followed from elsewhere)
        is let through: it shows the dashboard, it changes nothing, and the
        page cannot be framed.
        """
        if (
            request.method == "GET"
            and request.headers.get("Sec-Fetch-Mode") == "navigate"
            and not request.path.startswith("/api/")
        ):
            return
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            raise Refused(f"a {fetch_site} request (Sec-Fetch-Site)")
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.own_origin(request):
            raise Refused(f"origin {origin!r} is not this dashboard's")

    def check_write(self, request: web.Request) -> None:
        """A cookie-authenticated write must prove it comes from the dashboard's scripts."""
        if request.method in SAFE_METHODS:
            return
        if request.headers.get(WRITE_HEADER) != "1":
            raise Refused(f"a cookie-authenticated write without the {WRITE_HEADER} header")

    @staticmethod
    def own_origin(request: web.Request) -> str:
        """The origin a same-origin browser request carries."""
        return f"{request.scheme}://{request.host}"
