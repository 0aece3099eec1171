from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.account_disabled_error import AccountDisabledError
from ...models.auth_required_error import AuthRequiredError
from ...models.dependency_unavailable_error import DependencyUnavailableError
from ...models.invalid_state_error import InvalidStateError
from ...models.job_envelope import JobEnvelope
from ...models.not_found_error import NotFoundError
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.permission_denied_error import PermissionDeniedError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.unsupported_media_type_error import UnsupportedMediaTypeError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    job_id: UUID,
    *,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/job/{job_id}/cancel/".format(job_id=quote(str(job_id), safe=""),),
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    if response.status_code == 200:
        response_200 = JobEnvelope.from_dict(response.json())



        return response_200

    if response.status_code == 202:
        response_202 = JobEnvelope.from_dict(response.json())



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
        response_409 = InvalidStateError.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = PayloadTooLargeError.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = UnsupportedMediaTypeError.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ValidationError.from_dict(response.json())



        return response_422

    if response.status_code == 503:
        response_503 = DependencyUnavailableError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    """ Cancel a queued or running job (job.cancel)

     A queued job ends `canceled` now (200) and the VM goes back to its state before the
    request: a canceled stop leaves it running, a canceled start stopped, and a canceled
    create ends it `deleted` (it never reached libvirt; its quota and name are freed).

    A running job (202) is stopped by its worker within seconds: it ends `canceled`, and
    its VM `error` ("its stop job was canceled while it ran; ...") while a vm.refresh job
    reads libvirt back, after which the VM is what libvirt reports (a canceled create stays
    `error`: delete the VM). If the playbook ends first, its own outcome stands.

    409 INVALID_STATE when the job has ended, its cancel was already requested, it is a
    delete (queued or running), or a running host job.

    Args:
        job_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Cancel a queued or running job (job.cancel)

     A queued job ends `canceled` now (200) and the VM goes back to its state before the
    request: a canceled stop leaves it running, a canceled start stopped, and a canceled
    create ends it `deleted` (it never reached libvirt; its quota and name are freed).

    A running job (202) is stopped by its worker within seconds: it ends `canceled`, and
    its VM `error` ("its stop job was canceled while it ran; ...") while a vm.refresh job
    reads libvirt back, after which the VM is what libvirt reports (a canceled create stays
    `error`: delete the VM). If the playbook ends first, its own outcome stands.

    409 INVALID_STATE when the job has ended, its cancel was already requested, it is a
    delete (queued or running), or a running host job.

    Args:
        job_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError
     """


    return sync_detailed(
        job_id=job_id,
client=client,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    """ Cancel a queued or running job (job.cancel)

     A queued job ends `canceled` now (200) and the VM goes back to its state before the
    request: a canceled stop leaves it running, a canceled start stopped, and a canceled
    create ends it `deleted` (it never reached libvirt; its quota and name are freed).

    A running job (202) is stopped by its worker within seconds: it ends `canceled`, and
    its VM `error` ("its stop job was canceled while it ran; ...") while a vm.refresh job
    reads libvirt back, after which the VM is what libvirt reports (a canceled create stays
    `error`: delete the VM). If the playbook ends first, its own outcome stands.

    409 INVALID_STATE when the job has ended, its cancel was already requested, it is a
    delete (queued or running), or a running host job.

    Args:
        job_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Cancel a queued or running job (job.cancel)

     A queued job ends `canceled` now (200) and the VM goes back to its state before the
    request: a canceled stop leaves it running, a canceled start stopped, and a canceled
    create ends it `deleted` (it never reached libvirt; its quota and name are freed).

    A running job (202) is stopped by its worker within seconds: it ends `canceled`, and
    its VM `error` ("its stop job was canceled while it ran; ...") while a vm.refresh job
    reads libvirt back, after which the VM is what libvirt reports (a canceled create stays
    `error`: delete the VM). If the playbook ends first, its own outcome stands.

    409 INVALID_STATE when the job has ended, its cancel was already requested, it is a
    delete (queued or running), or a running host job.

    Args:
        job_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | JobEnvelope | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError
     """


    return (await asyncio_detailed(
        job_id=job_id,
client=client,
x_request_id=x_request_id,

    )).parsed
