from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.account_disabled_error import AccountDisabledError
from ...models.auth_required_error import AuthRequiredError
from ...models.bad_request_error import BadRequestError
from ...models.conflict_error import ConflictError
from ...models.dependency_unavailable_error import DependencyUnavailableError
from ...models.disk_too_small_error import DiskTooSmallError
from ...models.idempotency_key_reused_error import IdempotencyKeyReusedError
from ...models.invalid_state_error import InvalidStateError
from ...models.name_taken_error import NameTakenError
from ...models.no_capacity_error import NoCapacityError
from ...models.not_found_error import NotFoundError
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.permission_denied_error import PermissionDeniedError
from ...models.quota_exceeded_error import QuotaExceededError
from ...models.scheduler_unavailable_error import SchedulerUnavailableError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.unsupported_media_type_error import UnsupportedMediaTypeError
from ...models.validation_error import ValidationError
from ...models.vm_create import VMCreate
from ...models.vm_envelope import VMEnvelope
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: VMCreate,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/vm/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope | None:
    if response.status_code == 202:
        response_202 = VMEnvelope.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = BadRequestError.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        def _parse_response_401(data: object) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_0 = AccountDisabledError.from_dict(data)



                return response_401_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_1 = AuthRequiredError.from_dict(data)



                return response_401_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_2 = TokenExpiredError.from_dict(data)



                return response_401_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_3 = TokenInvalidError.from_dict(data)



                return response_401_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_401_type_4 = TokenRevokedError.from_dict(data)



            return response_401_type_4

        response_401 = _parse_response_401(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = PermissionDeniedError.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = NotFoundError.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        def _parse_response_409(data: object) -> ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_409_type_0 = ConflictError.from_dict(data)



                return response_409_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_409_type_1 = InvalidStateError.from_dict(data)



                return response_409_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_409_type_2 = NameTakenError.from_dict(data)



                return response_409_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_409_type_3 = NoCapacityError.from_dict(data)



                return response_409_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_409_type_4 = QuotaExceededError.from_dict(data)



            return response_409_type_4

        response_409 = _parse_response_409(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = PayloadTooLargeError.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = UnsupportedMediaTypeError.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        def _parse_response_422(data: object) -> DiskTooSmallError | IdempotencyKeyReusedError | ValidationError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_422_type_0 = DiskTooSmallError.from_dict(data)



                return response_422_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_422_type_1 = IdempotencyKeyReusedError.from_dict(data)



                return response_422_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_422_type_2 = ValidationError.from_dict(data)



            return response_422_type_2

        response_422 = _parse_response_422(response.json())

        return response_422

    if response.status_code == 503:
        def _parse_response_503(data: object) -> DependencyUnavailableError | SchedulerUnavailableError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_503_type_0 = DependencyUnavailableError.from_dict(data)



                return response_503_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_503_type_1 = SchedulerUnavailableError.from_dict(data)



            return response_503_type_1

        response_503 = _parse_response_503(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: VMCreate,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope]:
    """ Request a VM: recorded as pending, created by a queued job

    Args:
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (VMCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope]
     """


    kwargs = _get_kwargs(
        body=body,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    body: VMCreate,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope | None:
    """ Request a VM: recorded as pending, created by a queued job

    Args:
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (VMCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope
     """


    return sync_detailed(
        client=client,
body=body,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: VMCreate,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope]:
    """ Request a VM: recorded as pending, created by a queued job

    Args:
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (VMCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope]
     """


    kwargs = _get_kwargs(
        body=body,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: VMCreate,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope | None:
    """ Request a VM: recorded as pending, created by a queued job

    Args:
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (VMCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | ConflictError | InvalidStateError | NameTakenError | NoCapacityError | QuotaExceededError | DependencyUnavailableError | SchedulerUnavailableError | DiskTooSmallError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | VMEnvelope
     """


    return (await asyncio_detailed(
        client=client,
body=body,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )).parsed
