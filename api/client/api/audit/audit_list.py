from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.account_disabled_error import AccountDisabledError
from ...models.audit_entry_list_envelope import AuditEntryListEnvelope
from ...models.audit_list_outcome import AuditListOutcome
from ...models.auth_required_error import AuthRequiredError
from ...models.dependency_unavailable_error import DependencyUnavailableError
from ...models.token_expired_error import TokenExpiredError
from ...models.token_invalid_error import TokenInvalidError
from ...models.token_revoked_error import TokenRevokedError
from ...models.validation_error import ValidationError
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime



def _get_kwargs(
    *,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    tenant_id: UUID | Unset = UNSET,
    actor_id: UUID | Unset = UNSET,
    object_type: str | Unset = UNSET,
    object_id: str | Unset = UNSET,
    action: str | Unset = UNSET,
    outcome: AuditListOutcome | Unset = UNSET,
    request_id: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_request_id, Unset):
        headers["X-Request-ID"] = x_request_id



    

    params: dict[str, Any] = {}

    params["page"] = page

    params["per_page"] = per_page

    params["after"] = after

    json_tenant_id: str | Unset = UNSET
    if not isinstance(tenant_id, Unset):
        json_tenant_id = str(tenant_id)
    params["tenant_id"] = json_tenant_id

    json_actor_id: str | Unset = UNSET
    if not isinstance(actor_id, Unset):
        json_actor_id = str(actor_id)
    params["actor_id"] = json_actor_id

    params["object_type"] = object_type

    params["object_id"] = object_id

    params["action"] = action

    json_outcome: str | Unset = UNSET
    if not isinstance(outcome, Unset):
        json_outcome = outcome.value

    params["outcome"] = json_outcome

    params["request_id"] = request_id

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/audit/",
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError | None:
    if response.status_code == 200:
        response_200 = AuditEntryListEnvelope.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    tenant_id: UUID | Unset = UNSET,
    actor_id: UUID | Unset = UNSET,
    object_type: str | Unset = UNSET,
    object_id: str | Unset = UNSET,
    action: str | Unset = UNSET,
    outcome: AuditListOutcome | Unset = UNSET,
    request_id: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError]:
    """ List the audit records the caller may read, newest first, filtered and paged

     Newest first by id (the order of the hash chain). `meta.pagination.next` is the
    `after` of the next page (null on the last): a page read with `?after=` costs the same
    however deep it is, where `?page=` skips the rows before it.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        tenant_id (UUID | Unset):
        actor_id (UUID | Unset):
        object_type (str | Unset):
        object_id (str | Unset):
        action (str | Unset):
        outcome (AuditListOutcome | Unset):
        request_id (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError]
     """


    kwargs = _get_kwargs(
        page=page,
per_page=per_page,
after=after,
tenant_id=tenant_id,
actor_id=actor_id,
object_type=object_type,
object_id=object_id,
action=action,
outcome=outcome,
request_id=request_id,
since=since,
until=until,
x_request_id=x_request_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    tenant_id: UUID | Unset = UNSET,
    actor_id: UUID | Unset = UNSET,
    object_type: str | Unset = UNSET,
    object_id: str | Unset = UNSET,
    action: str | Unset = UNSET,
    outcome: AuditListOutcome | Unset = UNSET,
    request_id: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError | None:
    """ List the audit records the caller may read, newest first, filtered and paged

     Newest first by id (the order of the hash chain). `meta.pagination.next` is the
    `after` of the next page (null on the last): a page read with `?after=` costs the same
    however deep it is, where `?page=` skips the rows before it.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        tenant_id (UUID | Unset):
        actor_id (UUID | Unset):
        object_type (str | Unset):
        object_id (str | Unset):
        action (str | Unset):
        outcome (AuditListOutcome | Unset):
        request_id (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError
     """


    return sync_detailed(
        client=client,
page=page,
per_page=per_page,
after=after,
tenant_id=tenant_id,
actor_id=actor_id,
object_type=object_type,
object_id=object_id,
action=action,
outcome=outcome,
request_id=request_id,
since=since,
until=until,
x_request_id=x_request_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    tenant_id: UUID | Unset = UNSET,
    actor_id: UUID | Unset = UNSET,
    object_type: str | Unset = UNSET,
    object_id: str | Unset = UNSET,
    action: str | Unset = UNSET,
    outcome: AuditListOutcome | Unset = UNSET,
    request_id: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError]:
    """ List the audit records the caller may read, newest first, filtered and paged

     Newest first by id (the order of the hash chain). `meta.pagination.next` is the
    `after` of the next page (null on the last): a page read with `?after=` costs the same
    however deep it is, where `?page=` skips the rows before it.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        tenant_id (UUID | Unset):
        actor_id (UUID | Unset):
        object_type (str | Unset):
        object_id (str | Unset):
        action (str | Unset):
        outcome (AuditListOutcome | Unset):
        request_id (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError]
     """


    kwargs = _get_kwargs(
        page=page,
per_page=per_page,
after=after,
tenant_id=tenant_id,
actor_id=actor_id,
object_type=object_type,
object_id=object_id,
action=action,
outcome=outcome,
request_id=request_id,
since=since,
until=until,
x_request_id=x_request_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 50,
    after: int | Unset = UNSET,
    tenant_id: UUID | Unset = UNSET,
    actor_id: UUID | Unset = UNSET,
    object_type: str | Unset = UNSET,
    object_id: str | Unset = UNSET,
    action: str | Unset = UNSET,
    outcome: AuditListOutcome | Unset = UNSET,
    request_id: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    x_request_id: str | Unset = UNSET,

) -> AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError | None:
    """ List the audit records the caller may read, newest first, filtered and paged

     Newest first by id (the order of the hash chain). `meta.pagination.next` is the
    `after` of the next page (null on the last): a page read with `?after=` costs the same
    however deep it is, where `?page=` skips the rows before it.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 50.
        after (int | Unset):
        tenant_id (UUID | Unset):
        actor_id (UUID | Unset):
        object_type (str | Unset):
        object_id (str | Unset):
        action (str | Unset):
        outcome (AuditListOutcome | Unset):
        request_id (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountDisabledError | AuthRequiredError | TokenExpiredError | TokenInvalidError | TokenRevokedError | AuditEntryListEnvelope | DependencyUnavailableError | ValidationError
     """


    return (await asyncio_detailed(
        client=client,
page=page,
per_page=per_page,
after=after,
tenant_id=tenant_id,
actor_id=actor_id,
object_type=object_type,
object_id=object_id,
action=action,
outcome=outcome,
request_id=request_id,
since=since,
until=until,
x_request_id=x_request_id,

    )).parsed
