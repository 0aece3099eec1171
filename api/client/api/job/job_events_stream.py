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
from ...models.events_purged_error import EventsPurgedError
from ...models.not_found_error import NotFoundError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    job_id: UUID,
    *,
    after: int | Unset = 0,
    last_event_id: int | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = str(last_event_id)


    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    params: dict[str, Any] = {}

    params["after"] = after


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/job/{job_id}/events/stream/".format(job_id=quote(str(job_id), safe=""),),
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str | None:
    if response.status_code == 200:
        response_200 = response.text
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

    if response.status_code == 410:
        response_410 = EventsPurgedError.from_dict(response.json())



        return response_410

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str]:
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
    after: int | Unset = 0,
    last_event_id: int | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str]:
    """ Follow a job's events as server-sent events until it ends

     Each stored event, in counter order, as `id: <counter>`, `event: <event>`, `data:
    <JobEvent as JSON>`; then `event: end` with `{"job_id", "status"}` once the job is
    finished. Resumes after the `Last-Event-ID` header, else after `?after=`. A comment
    line every 15 s while nothing is stored. It ends without `end` after
    VIRTFLOW_SSE_MAX_SECONDS: reconnect with Last-Event-ID (an EventSource does so itself).
    410 EVENTS_PURGED once the job ended longer ago than VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        after (int | Unset):  Default: 0.
        last_event_id (int | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
after=after,
last_event_id=last_event_id,
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
    after: int | Unset = 0,
    last_event_id: int | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str | None:
    """ Follow a job's events as server-sent events until it ends

     Each stored event, in counter order, as `id: <counter>`, `event: <event>`, `data:
    <JobEvent as JSON>`; then `event: end` with `{"job_id", "status"}` once the job is
    finished. Resumes after the `Last-Event-ID` header, else after `?after=`. A comment
    line every 15 s while nothing is stored. It ends without `end` after
    VIRTFLOW_SSE_MAX_SECONDS: reconnect with Last-Event-ID (an EventSource does so itself).
    410 EVENTS_PURGED once the job ended longer ago than VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        after (int | Unset):  Default: 0.
        last_event_id (int | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str
     """


    return sync_detailed(
        job_id=job_id,
client=client,
after=after,
last_event_id=last_event_id,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    after: int | Unset = 0,
    last_event_id: int | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str]:
    """ Follow a job's events as server-sent events until it ends

     Each stored event, in counter order, as `id: <counter>`, `event: <event>`, `data:
    <JobEvent as JSON>`; then `event: end` with `{"job_id", "status"}` once the job is
    finished. Resumes after the `Last-Event-ID` header, else after `?after=`. A comment
    line every 15 s while nothing is stored. It ends without `end` after
    VIRTFLOW_SSE_MAX_SECONDS: reconnect with Last-Event-ID (an EventSource does so itself).
    410 EVENTS_PURGED once the job ended longer ago than VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        after (int | Unset):  Default: 0.
        last_event_id (int | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
after=after,
last_event_id=last_event_id,
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
    after: int | Unset = 0,
    last_event_id: int | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str | None:
    """ Follow a job's events as server-sent events until it ends

     Each stored event, in counter order, as `id: <counter>`, `event: <event>`, `data:
    <JobEvent as JSON>`; then `event: end` with `{"job_id", "status"}` once the job is
    finished. Resumes after the `Last-Event-ID` header, else after `?after=`. A comment
    line every 15 s while nothing is stored. It ends without `end` after
    VIRTFLOW_SSE_MAX_SECONDS: reconnect with Last-Event-ID (an EventSource does so itself).
    410 EVENTS_PURGED once the job ended longer ago than VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        after (int | Unset):  Default: 0.
        last_event_id (int | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | NotFoundError | ValidationError | str
     """


    return (await asyncio_detailed(
        job_id=job_id,
client=client,
after=after,
last_event_id=last_event_id,
x_request_id=x_request_id,

    )).parsed
