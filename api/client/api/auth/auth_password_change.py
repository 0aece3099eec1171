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
from ...models.invalid_credentials_error import InvalidCredentialsError
from ...models.password_change import PasswordChange
from ...models.password_changed_envelope import PasswordChangedEnvelope
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.rate_limited_error import RateLimitedError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.unsupported_media_type_error import UnsupportedMediaTypeError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: PasswordChange,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/auth/password/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError | None:
    if response.status_code == 200:
        response_200 = PasswordChangedEnvelope.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = BadRequestError.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        def _parse_response_401(data: object) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError:
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
                response_401_type_3 = InvalidCredentialsError.from_dict(data)



                return response_401_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_4 = TokenExpiredError.from_dict(data)



                return response_401_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_401_type_5 = TokenInvalidError.from_dict(data)



                return response_401_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_401_type_6 = TokenRevokedError.from_dict(data)



            return response_401_type_6

        response_401 = _parse_response_401(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = PayloadTooLargeError.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = UnsupportedMediaTypeError.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ValidationError.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = RateLimitedError.from_dict(response.json())



        return response_429

    if response.status_code == 503:
        response_503 = DependencyUnavailableError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PasswordChange,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError]:
    """ Change your own password (fresh token); your other sessions are ended

    Args:
        x_request_id (str | Unset):
        body (PasswordChange):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError]
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
    body: PasswordChange,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Change your own password (fresh token); your other sessions are ended

    Args:
        x_request_id (str | Unset):
        body (PasswordChange):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError
     """


    return sync_detailed(
        client=client,
body=body,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PasswordChange,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError]:
    """ Change your own password (fresh token); your other sessions are ended

    Args:
        x_request_id (str | Unset):
        body (PasswordChange):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError]
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
    body: PasswordChange,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError | None:
    """ Change your own password (fresh token); your other sessions are ended

    Args:
        x_request_id (str | Unset):
        body (PasswordChange):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | FreshTokenRequiredError | InvalidCredentialsError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | PasswordChangedEnvelope | PayloadTooLargeError | RateLimitedError | UnsupportedMediaTypeError | ValidationError
     """


    return (await asyncio_detailed(
        client=client,
body=body,
x_request_id=x_request_id,

    )).parsed
