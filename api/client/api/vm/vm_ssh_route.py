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
from ...models.not_found_error import NotFoundError
from ...models.ssh_route_envelope import SSHRouteEnvelope
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    vm_id: UUID,
    *,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/vm/{vm_id}/ssh/".format(vm_id=quote(str(vm_id), safe=""),),
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError | None:
    if response.status_code == 200:
        response_200 = SSHRouteEnvelope.from_dict(response.json())



        return response_200

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

    if response.status_code == 404:
        response_404 = NotFoundError.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = InvalidStateError.from_dict(response.json())



        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError]:
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
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError]:
    """ How to reach the VM's guest by SSH (vm.view): user, address and the host to jump through

     The user is the image's default_user; `host`/`port` are where SSH connects from the
    VM's baremetal host (127.0.0.1 and the forwarded port with user-mode networking, the
    guest's first address and 22 on a NAT network, null until an address is known); `jump`
    is that host as Ansible reaches it (null: the controller itself). 409 INVALID_STATE for
    a VM made without an image.

    Args:
        vm_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError]
     """


    kwargs = _get_kwargs(
        vm_id=vm_id,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError | None:
    """ How to reach the VM's guest by SSH (vm.view): user, address and the host to jump through

     The user is the image's default_user; `host`/`port` are where SSH connects from the
    VM's baremetal host (127.0.0.1 and the forwarded port with user-mode networking, the
    guest's first address and 22 on a NAT network, null until an address is known); `jump`
    is that host as Ansible reaches it (null: the controller itself). 409 INVALID_STATE for
    a VM made without an image.

    Args:
        vm_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError
     """


    return sync_detailed(
        vm_id=vm_id,
client=client,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError]:
    """ How to reach the VM's guest by SSH (vm.view): user, address and the host to jump through

     The user is the image's default_user; `host`/`port` are where SSH connects from the
    VM's baremetal host (127.0.0.1 and the forwarded port with user-mode networking, the
    guest's first address and 22 on a NAT network, null until an address is known); `jump`
    is that host as Ansible reaches it (null: the controller itself). 409 INVALID_STATE for
    a VM made without an image.

    Args:
        vm_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError]
     """


    kwargs = _get_kwargs(
        vm_id=vm_id,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    vm_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError | None:
    """ How to reach the VM's guest by SSH (vm.view): user, address and the host to jump through

     The user is the image's default_user; `host`/`port` are where SSH connects from the
    VM's baremetal host (127.0.0.1 and the forwarded port with user-mode networking, the
    guest's first address and 22 on a NAT network, null until an address is known); `jump`
    is that host as Ansible reaches it (null: the controller itself). 409 INVALID_STATE for
    a VM made without an image.

    Args:
        vm_id (UUID):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | InvalidStateError | NotFoundError | SSHRouteEnvelope | ValidationError
     """


    return (await asyncio_detailed(
        vm_id=vm_id,
client=client,
x_request_id=x_request_id,

    )).parsed
