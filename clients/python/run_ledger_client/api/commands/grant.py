from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.balance_response import BalanceResponse
from ...models.grant_request import GrantRequest
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    tenant_id: str,
    *,
    body: GrantRequest,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/accounts/{tenant_id}/grants".format(tenant_id=quote(str(tenant_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BalanceResponse | Problem | None:
    if response.status_code == 201:
        response_201 = BalanceResponse.from_dict(response.json())



        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())



        return response_408

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[BalanceResponse | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: GrantRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[BalanceResponse | Problem]:
    """ Grant credits to a tenant (admin keys only).

    Args:
        tenant_id (str):
        idempotency_key (str | Unset):
        body (GrantRequest): `POST /v1/accounts/{tenant_id}/grants`. Example: {'amount': 500,
            'bucket': 'monthly', 'reason': 'December allowance'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BalanceResponse | Problem]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: GrantRequest,
    idempotency_key: str | Unset = UNSET,

) -> BalanceResponse | Problem | None:
    """ Grant credits to a tenant (admin keys only).

    Args:
        tenant_id (str):
        idempotency_key (str | Unset):
        body (GrantRequest): `POST /v1/accounts/{tenant_id}/grants`. Example: {'amount': 500,
            'bucket': 'monthly', 'reason': 'December allowance'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BalanceResponse | Problem
     """


    return sync_detailed(
        tenant_id=tenant_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: GrantRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[BalanceResponse | Problem]:
    """ Grant credits to a tenant (admin keys only).

    Args:
        tenant_id (str):
        idempotency_key (str | Unset):
        body (GrantRequest): `POST /v1/accounts/{tenant_id}/grants`. Example: {'amount': 500,
            'bucket': 'monthly', 'reason': 'December allowance'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BalanceResponse | Problem]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: GrantRequest,
    idempotency_key: str | Unset = UNSET,

) -> BalanceResponse | Problem | None:
    """ Grant credits to a tenant (admin keys only).

    Args:
        tenant_id (str):
        idempotency_key (str | Unset):
        body (GrantRequest): `POST /v1/accounts/{tenant_id}/grants`. Example: {'amount': 500,
            'bucket': 'monthly', 'reason': 'December allowance'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BalanceResponse | Problem
     """


    return (await asyncio_detailed(
        tenant_id=tenant_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
