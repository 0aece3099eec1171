"""VirtFlowError and its subclasses: each carries its HTTP status and stable error code.

This module is the single source of the error-code table in docs/api/errors.md.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VirtFlowError(Exception):
    """Root of every error the API reports on purpose."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    message: ClassVar[str] = "An internal error occurred; the request id identifies it in the logs."
    # Seconds a client should wait before retrying, sent as the Retry-After header; None: no header.
    retry_after: ClassVar[int | None] = None

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None) -> None:
        self.detail_message = message or self.message
        self.details = details or {}
        super().__init__(self.detail_message)


class BadRequest(VirtFlowError):
    code = "BAD_REQUEST"
    status = 400
    message = "The request body could not be read as JSON."


class ValidationFailed(VirtFlowError):
    code = "VALIDATION_ERROR"
    status = 422
    message = "The request has invalid fields; details lists them by location and field."


class AuthRequired(VirtFlowError):
    code = "AUTH_REQUIRED"
    status = 401
    message = "This endpoint needs an 'Authorization: Bearer <access token>' header."


class InvalidCredentials(VirtFlowError):
    code = "INVALID_CREDENTIALS"
    status = 401
    message = "Unknown user or wrong password."


class TokenInvalid(VirtFlowError):
    code = "TOKEN_INVALID"
    status = 401
    message = "The token is malformed, has a bad signature or is of the wrong type."


class TokenExpired(VirtFlowError):
    code = "TOKEN_EXPIRED"
    status = 401
    message = "The token has expired; log in again or refresh it."


class TokenRevoked(VirtFlowError):
    code = "TOKEN_REVOKED"
    status = 401
    message = "The token was revoked by a logout; log in again."


class FreshTokenRequired(VirtFlowError):
    code = "FRESH_TOKEN_REQUIRED"
    status = 401
    message = "This sensitive operation needs a fresh token: log in again with your password."


class AccountDisabled(VirtFlowError):
    code = "ACCOUNT_DISABLED"
    status = 401
    message = "The account behind this token is disabled or no longer exists."


class PermissionDenied(VirtFlowError):
    code = "PERMISSION_DENIED"
    status = 403
    message = "You can see this object but lack the permission for this action."


class NotFound(VirtFlowError):
    code = "NOT_FOUND"
    status = 404
    message = "No such resource, or you are not allowed to see it."


class MethodNotAllowed(VirtFlowError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    message = "This method is not allowed on this path."


class NameTaken(VirtFlowError):
    code = "NAME_TAKEN"
    status = 409
    message = "The name is already in use in this scope."


class Conflict(VirtFlowError):
    code = "CONFLICT"
    status = 409
    message = "The request conflicts with existing data (likely a concurrent change); retry it."


class AlreadyExists(VirtFlowError):
    code = "ALREADY_EXISTS"
    status = 409
    message = "It exists already: the user is a member of this tenant, or holds this grant."


class IdempotencyKeyReused(VirtFlowError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    message = "This Idempotency-Key was sent with another request; use a new key for a new request."


class ImageInvalid(VirtFlowError):
    code = "IMAGE_INVALID"
    status = 422
    message = (
        "The image content was refused (format not as declared, a backing or external data "
        "file, or unreadable); details give the reason. Nothing was kept."
    )


class DiskTooSmall(VirtFlowError):
    code = "DISK_TOO_SMALL"
    status = 422
    message = (
        "disk_gb is smaller than the image's virtual size; details.minimum_disk_gb is the least "
        "it takes."
    )


class ImageInUse(VirtFlowError):
    code = "IMAGE_IN_USE"
    status = 409
    message = "VMs that are not deleted use this image; details list them."


class InvalidState(VirtFlowError):
    code = "INVALID_STATE"
    status = 409
    message = "The object is in a state that does not allow this action."


class ResourceBusy(VirtFlowError):
    code = "RESOURCE_BUSY"
    status = 409
    message = "A job is still running on this object; wait for it to finish."


class QuotaExceeded(VirtFlowError):
    code = "QUOTA_EXCEEDED"
    status = 409
    message = (
        "The request would exceed the tenant's quota; "
        "details give resource, requested, used and limit."
    )


class TenantNotEmpty(VirtFlowError):
    code = "TENANT_NOT_EMPTY"
    status = 409
    message = (
        "The tenant still has VMs that are not stopped or deleted, or unfinished jobs; "
        "details list them."
    )


class NoCapacity(VirtFlowError):
    code = "NO_CAPACITY"
    status = 409
    message = "No active baremetal host in the inventory has room for this request."


class EventsPurged(VirtFlowError):
    code = "EVENTS_PURGED"
    status = 410
    message = "This job's events were purged: it ended longer ago than events are kept."


class PayloadTooLarge(VirtFlowError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    message = "The request body is larger than the server accepts."


class UnsupportedMediaType(VirtFlowError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    message = "Send the body as application/json."


class RateLimited(VirtFlowError):
    code = "RATE_LIMITED"
    status = 429
    message = "Too many failed attempts; retry after the number of seconds in Retry-After."


class SchedulerUnavailable(VirtFlowError):
    code = "SCHEDULER_UNAVAILABLE"
    status = 503
    message = "The external scheduler did not answer usably; the VM was not created."
    retry_after = 5


class DependencyUnavailable(VirtFlowError):
    code = "DEPENDENCY_UNAVAILABLE"
    status = 503
    message = (
        "A service VirtFlow depends on (database, Redis) is unreachable; details say which. "
        "Retry after the seconds in Retry-After."
    )
    # Long enough for a restarted PostgreSQL or Redis to come back, short enough not to matter.
    retry_after = 5


def registry() -> list[type[VirtFlowError]]:
    """Every error class, ordered by status then code; the docs table is generated from it."""
    seen: list[type[VirtFlowError]] = [VirtFlowError]
    stack = list(VirtFlowError.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: (c.status, c.code))


def by_status(status: int) -> type[VirtFlowError]:
    """The canonical error class for a bare HTTP status (used for werkzeug's own errors)."""
    canonical = {
        400: BadRequest,
        401: AuthRequired,
        403: PermissionDenied,
        404: NotFound,
        405: MethodNotAllowed,
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
        409: Conflict,
        422: ValidationFailed,
        503: DependencyUnavailable,
    }
    if status in canonical:
        return canonical[status]
    return BadRequest if 400 <= status < 500 else VirtFlowError


def markdown_table() -> str:
    """The error-code table for docs/api/errors.md."""
    lines = [
        "<!-- generated by `virtflow docs errors`; do not edit by hand -->",
        "# Error codes",
        "",
        'Every error response is `{"status": "error", "error": {"code", "message", '
        '"details"}, "meta": {"request_id"}}`. Codes are stable; messages may be reworded.',
        "",
        "| HTTP | code | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| {c.status} | `{c.code}` | {c.message} |" for c in registry()]
    return "\n".join(lines) + "\n"
