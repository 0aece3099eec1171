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
from ...models.job_event_list_envelope import JobEventListEnvelope
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
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    host: str | Unset = UNSET,
    event: str | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    params: dict[str, Any] = {}

    params["page"] = page

    params["per_page"] = per_page

    params["after"] = after

    params["host"] = host

    params["event"] = event


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/job/{job_id}/events/".format(job_id=quote(str(job_id), safe=""),),
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError | None:
    if response.status_code == 200:
        response_200 = JobEventListEnvelope.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError]:
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
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    host: str | Unset = UNSET,
    event: str | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError]:
    """ Page through a job's ansible-runner events in order

     By counter. `meta.pagination.next` is the `after` of the next page (null on the last):
    a page read with `?after=` costs the same however deep it is, where `?page=` skips
    the rows before it. 410 EVENTS_PURGED once the job ended longer ago than
    VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        host (str | Unset):
        event (str | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
page=page,
per_page=per_page,
after=after,
host=host,
event=event,
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
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    host: str | Unset = UNSET,
    event: str | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError | None:
    """ Page through a job's ansible-runner events in order

     By counter. `meta.pagination.next` is the `after` of the next page (null on the last):
    a page read with `?after=` costs the same however deep it is, where `?page=` skips
    the rows before it. 410 EVENTS_PURGED once the job ended longer ago than
    VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        host (str | Unset):
        event (str | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError
     """


    return sync_detailed(
        job_id=job_id,
client=client,
page=page,
per_page=per_page,
after=after,
host=host,
event=event,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    host: str | Unset = UNSET,
    event: str | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError]:
    """ Page through a job's ansible-runner events in order

     By counter. `meta.pagination.next` is the `after` of the next page (null on the last):
    a page read with `?after=` costs the same however deep it is, where `?page=` skips
    the rows before it. 410 EVENTS_PURGED once the job ended longer ago than
    VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        host (str | Unset):
        event (str | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
page=page,
per_page=per_page,
after=after,
host=host,
event=event,
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
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    host: str | Unset = UNSET,
    event: str | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError | None:
    """ Page through a job's ansible-runner events in order

     By counter. `meta.pagination.next` is the `after` of the next page (null on the last):
    a page read with `?after=` costs the same however deep it is, where `?page=` skips
    the rows before it. 410 EVENTS_PURGED once the job ended longer ago than
    VIRTFLOW_JOB_EVENT_RETENTION_DAYS.

    Args:
        job_id (UUID):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        host (str | Unset):
        event (str | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | DependencyUnavailableError | EventsPurgedError | JobEventListEnvelope | NotFoundError | ValidationError
     """


    return (await asyncio_detailed(
        job_id=job_id,
client=client,
page=page,
per_page=per_page,
after=after,
host=host,
event=event,
x_request_id=x_request_id,

    )).parsed
