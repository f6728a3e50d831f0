from aiohttp import web

from commerce.core import Core
from commerce.staff.auth import StaffSession

CORE = web.AppKey("core", Core)
SESSION = web.RequestKey("admin_session", StaffSession)  # the session of a signed-in request
COOKIE = "admin_session"  # the session cookie
LOGIN_CSRF_COOKIE = "admin_login_csrf"  # double-submit token of the sign-in form

__all__ = ["COOKIE", "CORE", "LOGIN_CSRF_COOKIE", "SESSION", "StaffSession"]
