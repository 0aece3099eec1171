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
from ...models.image_create import ImageCreate
from ...models.image_envelope import ImageEnvelope
from ...models.name_taken_error import NameTakenError
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



def _get_kwargs(
    *,
    body: ImageCreate,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/image/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    if response.status_code == 201:
        response_201 = ImageEnvelope.from_dict(response.json())



        return response_201

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
        response_409 = NameTakenError.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImageCreate,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    """ Register an image (platform admins): `pending` until its content is uploaded

    Args:
        x_request_id (str | Unset):
        body (ImageCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        body=body,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ImageCreate,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Register an image (platform admins): `pending` until its content is uploaded

    Args:
        x_request_id (str | Unset):
        body (ImageCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError
     """


    return sync_detailed(
        client=client,
body=body,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImageCreate,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]:
    """ Register an image (platform admins): `pending` until its content is uploaded

    Args:
        x_request_id (str | Unset):
        body (ImageCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError]
     """


    kwargs = _get_kwargs(
        body=body,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ImageCreate,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Register an image (platform admins): `pending` until its content is uploaded

    Args:
        x_request_id (str | Unset):
        body (ImageCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | NameTakenError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | ValidationError
     """


    return (await asyncio_detailed(
        client=client,
body=body,
x_request_id=x_request_id,

    )).parsed
