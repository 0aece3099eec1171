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
from ...models.dependency_unavailable_error import DependencyUnavailableError
from ...models.fresh_token_required_error import FreshTokenRequiredError
from ...models.not_found_error import NotFoundError
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.permission_denied_error import PermissionDeniedError
from ...models.quota_envelope import QuotaEnvelope
from ...models.quota_limits import QuotaLimits
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.unsupported_media_type_error import UnsupportedMediaTypeError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    tenant_id: UUID,
    *,
    body: QuotaLimits,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/tenant/{tenant_id}/quota/".format(tenant_id=quote(str(tenant_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError | None:
    if response.status_code == 200:
        response_200 = QuotaEnvelope.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = BadRequestError.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        def _parse_response_401(data: object) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError:
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
                response_401_type_2 = FreshTokenRequiredError.from_dict(data)



                return response_401_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_3 = TokenExpiredError.from_dict(data)



                return response_401_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_4 = TokenInvalidError.from_dict(data)



                return response_401_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_401_type_5 = TokenRevokedError.from_dict(data)



            return response_401_type_5

        response_401 = _parse_response_401(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = PermissionDeniedError.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = NotFoundError.from_dict(response.json())



        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    tenant_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: QuotaLimits,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError]:
    """ Set some limits (platform admins only; fresh token)

     Resources left out keep their limit. A limit below current usage keeps what exists
    and refuses new requests (409 QUOTA_EXCEEDED).

    Args:
        tenant_id (UUID):
        x_request_id (str | Unset):
        body (QuotaLimits):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    tenant_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: QuotaLimits,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError | None:
    """ Set some limits (platform admins only; fresh token)

     Resources left out keep their limit. A limit below current usage keeps what exists
    and refuses new requests (409 QUOTA_EXCEEDED).

    Args:
        tenant_id (UUID):
        x_request_id (str | Unset):
        body (QuotaLimits):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError
     """


    return sync_detailed(
        tenant_id=tenant_id,
client=client,
body=body,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    tenant_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: QuotaLimits,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError]:
    """ Set some limits (platform admins only; fresh token)

     Resources left out keep their limit. A limit below current usage keeps what exists
    and refuses new requests (409 QUOTA_EXCEEDED).

    Args:
        tenant_id (UUID):
        x_request_id (str | Unset):
        body (QuotaLimits):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    tenant_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: QuotaLimits,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError | None:
    """ Set some limits (platform admins only; fresh token)

     Resources left out keep their limit. A limit below current usage keeps what exists
    and refuses new requests (409 QUOTA_EXCEEDED).

    Args:
        tenant_id (UUID):
        x_request_id (str | Unset):
        body (QuotaLimits):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | QuotaEnvelope | UnsupportedMediaTypeError | ValidationError
     """


    return (await asyncio_detailed(
        tenant_id=tenant_id,
client=client,
body=body,
x_request_id=x_request_id,

    )).parsed
