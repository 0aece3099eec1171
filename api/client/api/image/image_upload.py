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
from ...models.image_envelope import ImageEnvelope
from ...models.image_invalid_error import ImageInvalidError
from ...models.invalid_state_error import InvalidStateError
from ...models.not_found_error import NotFoundError
from ...models.payload_too_large_error import PayloadTooLargeError
from ...models.permission_denied_error import PermissionDeniedError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.unsupported_media_type_error import UnsupportedMediaTypeError
from ...models.validation_error import ValidationError
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast
from uuid import UUID



def _get_kwargs(
    image_id: UUID,
    *,
    body: File,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/image/{image_id}/file/".format(image_id=quote(str(image_id), safe=""),),
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | None:
    if response.status_code == 200:
        response_200 = ImageEnvelope.from_dict(response.json())



        return response_200

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
        response_409 = InvalidStateError.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = PayloadTooLargeError.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = UnsupportedMediaTypeError.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        def _parse_response_422(data: object) -> ImageInvalidError | ValidationError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_422_type_0 = ImageInvalidError.from_dict(data)



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    image_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError]:
    """ Upload a pending image's content (platform admins), as application/octet-stream

     The body is streamed to the image store in chunks while its sha256 is computed, then
    checked with `qemu-img info`: the format must be the declared one, with no backing file
    and no external data file. A refusal (422 IMAGE_INVALID, or 413 past
    VIRTFLOW_IMAGE_MAX_BYTES) keeps nothing and leaves the image `pending`; success makes
    it `active` with its size, virtual size and sha256.

    Args:
        image_id (UUID):
        x_request_id (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError]
     """


    kwargs = _get_kwargs(
        image_id=image_id,
body=body,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    image_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | None:
    """ Upload a pending image's content (platform admins), as application/octet-stream

     The body is streamed to the image store in chunks while its sha256 is computed, then
    checked with `qemu-img info`: the format must be the declared one, with no backing file
    and no external data file. A refusal (422 IMAGE_INVALID, or 413 past
    VIRTFLOW_IMAGE_MAX_BYTES) keeps nothing and leaves the image `pending`; success makes
    it `active` with its size, virtual size and sha256.

    Args:
        image_id (UUID):
        x_request_id (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError
     """


    return sync_detailed(
        image_id=image_id,
client=client,
body=body,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    image_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError]:
    """ Upload a pending image's content (platform admins), as application/octet-stream

     The body is streamed to the image store in chunks while its sha256 is computed, then
    checked with `qemu-img info`: the format must be the declared one, with no backing file
    and no external data file. A refusal (422 IMAGE_INVALID, or 413 past
    VIRTFLOW_IMAGE_MAX_BYTES) keeps nothing and leaves the image `pending`; success makes
    it `active` with its size, virtual size and sha256.

    Args:
        image_id (UUID):
        x_request_id (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError]
     """


    kwargs = _get_kwargs(
        image_id=image_id,
body=body,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    image_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError | None:
    """ Upload a pending image's content (platform admins), as application/octet-stream

     The body is streamed to the image store in chunks while its sha256 is computed, then
    checked with `qemu-img info`: the format must be the declared one, with no backing file
    and no external data file. A refusal (422 IMAGE_INVALID, or 413 past
    VIRTFLOW_IMAGE_MAX_BYTES) keeps nothing and leaves the image `pending`; success makes
    it `active` with its size, virtual size and sha256.

    Args:
        image_id (UUID):
        x_request_id (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | BadRequestError | DependencyUnavailableError | ImageEnvelope | ImageInvalidError | ValidationError | InvalidStateError | NotFoundError | PayloadTooLargeError | PermissionDeniedError | UnsupportedMediaTypeError
     """


    return (await asyncio_detailed(
        image_id=image_id,
client=client,
body=body,
x_request_id=x_request_id,

    )).parsed
