from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.account_disabled_error import AccountDisabledError
from ...models.auth_required_error import AuthRequiredError
from ...models.conflict_error import ConflictError
from ...models.dependency_unavailable_error import DependencyUnavailableError
from ...models.idempotency_key_reused_error import IdempotencyKeyReusedError
from ...models.invalid_state_error import InvalidStateError
from ...models.not_found_error import NotFoundError
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.permission_denied_error import PermissionDeniedError
from ...models.resource_busy_error import ResourceBusyError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.validation_error import ValidationError
from ...models.vm_envelope import VMEnvelope
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    vm_id: UUID,
    *,
    force: bool | Unset = False,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    params: dict[str, Any] = {}

    params["force"] = force


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/vm/{vm_id}/".format(vm_id=quote(str(vm_id), safe=""),),
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope | None:
    if response.status_code == 200:
        response_200 = VMEnvelope.from_dict(response.json())



        return response_200

    if response.status_code == 202:
        response_202 = VMEnvelope.from_dict(response.json())



        return response_202

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
        def _parse_response_409(data: object) -> ConflictError | InvalidStateError | ResourceBusyError:
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
            if not isinstance(data, dict):
                raise TypeError()
            response_409_type_2 = ResourceBusyError.from_dict(data)



            return response_409_type_2

        response_409 = _parse_response_409(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = PayloadTooLargeError.from_dict(response.json())



        return response_413

    if response.status_code == 422:
        def _parse_response_422(data: object) -> IdempotencyKeyReusedError | ValidationError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_422_type_0 = IdempotencyKeyReusedError.from_dict(data)



                return response_422_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_422_type_1 = ValidationError.from_dict(data)



            return response_422_type_1

        response_422 = _parse_response_422(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = DependencyUnavailableError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    force: bool | Unset = False,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope]:
    """ Delete a VM: stop and undefine the domain and remove its disk, by a queued job

     From any live status. Queued jobs of the VM are canceled; a VM whose create job had not
    started is deleted at once (200). A running job of the VM finishes first, then the
    delete job runs; the VM shows `deleting` meanwhile.

    With `?force=true` (platform admins) the VM is marked `deleted` at once and libvirt is
    not reached: for a VM whose host is unreachable or gone from the inventory. Its queued
    jobs are canceled; a running job refuses it with 409 RESOURCE_BUSY.

    Args:
        vm_id (UUID):
        force (bool | Unset):  Default: False.
        x_request_id (str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope]
     """


    kwargs = _get_kwargs(
        vm_id=vm_id,
force=force,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    force: bool | Unset = False,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope | None:
    """ Delete a VM: stop and undefine the domain and remove its disk, by a queued job

     From any live status. Queued jobs of the VM are canceled; a VM whose create job had not
    started is deleted at once (200). A running job of the VM finishes first, then the
    delete job runs; the VM shows `deleting` meanwhile.

    With `?force=true` (platform admins) the VM is marked `deleted` at once and libvirt is
    not reached: for a VM whose host is unreachable or gone from the inventory. Its queued
    jobs are canceled; a running job refuses it with 409 RESOURCE_BUSY.

    Args:
        vm_id (UUID):
        force (bool | Unset):  Default: False.
        x_request_id (str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope
     """


    return sync_detailed(
        vm_id=vm_id,
client=client,
force=force,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    force: bool | Unset = False,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope]:
    """ Delete a VM: stop and undefine the domain and remove its disk, by a queued job

     From any live status. Queued jobs of the VM are canceled; a VM whose create job had not
    started is deleted at once (200). A running job of the VM finishes first, then the
    delete job runs; the VM shows `deleting` meanwhile.

    With `?force=true` (platform admins) the VM is marked `deleted` at once and libvirt is
    not reached: for a VM whose host is unreachable or gone from the inventory. Its queued
    jobs are canceled; a running job refuses it with 409 RESOURCE_BUSY.

    Args:
        vm_id (UUID):
        force (bool | Unset):  Default: False.
        x_request_id (str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope]
     """


    kwargs = _get_kwargs(
        vm_id=vm_id,
force=force,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    force: bool | Unset = False,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope | None:
    """ Delete a VM: stop and undefine the domain and remove its disk, by a queued job

     From any live status. Queued jobs of the VM are canceled; a VM whose create job had not
    started is deleted at once (200). A running job of the VM finishes first, then the
    delete job runs; the VM shows `deleting` meanwhile.

    With `?force=true` (platform admins) the VM is marked `deleted` at once and libvirt is
    not reached: for a VM whose host is unreachable or gone from the inventory. Its queued
    jobs are canceled; a running job refuses it with 409 RESOURCE_BUSY.

    Args:
        vm_id (UUID):
        force (bool | Unset):  Default: False.
        x_request_id (str | Unset):
        idempotency_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | ConflictError | InvalidStateError | ResourceBusyError | DependencyUnavailableError | IdempotencyKeyReusedError | ValidationError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | VMEnvelope
     """


    return (await asyncio_detailed(
        vm_id=vm_id,
client=client,
force=force,
x_request_id=x_request_id,
idempotency_key=idempotency_key,

    )).parsed
