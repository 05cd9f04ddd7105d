from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.retry_failed_response import RetryFailedResponse
from ...types import UNSET, Unset
from typing import cast
from uuid import UUID



def _get_kwargs(
    run_id: UUID,
    *,
    idempotency_key: str | Unset = UNSET,
    x_actor_id: str | Unset = UNSET,
    x_actor_role: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(x_actor_id, Unset):
        headers["X-Actor-Id"] = x_actor_id

    if not isinstance(x_actor_role, Unset):
        headers["X-Actor-Role"] = x_actor_role



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/runs/{run_id}/retry-failed".format(run_id=quote(str(run_id), safe=""),),
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RetryFailedResponse | None:
    if response.status_code == 200:
        response_200 = RetryFailedResponse.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 402:
        response_402 = Problem.from_dict(response.json())



        return response_402

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())



        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | RetryFailedResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: str | Unset = UNSET,
    x_actor_id: str | Unset = UNSET,
    x_actor_role: None | str | Unset = UNSET,

) -> Response[Problem | RetryFailedResponse]:
    """ Retry a run's failed and pending files, charging for the failed ones.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        x_actor_id (str | Unset):
        x_actor_role (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RetryFailedResponse]
     """


    kwargs = _get_kwargs(
        run_id=run_id,
idempotency_key=idempotency_key,
x_actor_id=x_actor_id,
x_actor_role=x_actor_role,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: str | Unset = UNSET,
    x_actor_id: str | Unset = UNSET,
    x_actor_role: None | str | Unset = UNSET,

) -> Problem | RetryFailedResponse | None:
    """ Retry a run's failed and pending files, charging for the failed ones.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        x_actor_id (str | Unset):
        x_actor_role (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RetryFailedResponse
     """


    return sync_detailed(
        run_id=run_id,
client=client,
idempotency_key=idempotency_key,
x_actor_id=x_actor_id,
x_actor_role=x_actor_role,

    ).parsed

async def asyncio_detailed(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: str | Unset = UNSET,
    x_actor_id: str | Unset = UNSET,
    x_actor_role: None | str | Unset = UNSET,

) -> Response[Problem | RetryFailedResponse]:
    """ Retry a run's failed and pending files, charging for the failed ones.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        x_actor_id (str | Unset):
        x_actor_role (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RetryFailedResponse]
     """


    kwargs = _get_kwargs(
        run_id=run_id,
idempotency_key=idempotency_key,
x_actor_id=x_actor_id,
x_actor_role=x_actor_role,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    run_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: str | Unset = UNSET,
    x_actor_id: str | Unset = UNSET,
    x_actor_role: None | str | Unset = UNSET,

) -> Problem | RetryFailedResponse | None:
    """ Retry a run's failed and pending files, charging for the failed ones.

    Args:
        run_id (UUID):
        idempotency_key (str | Unset):
        x_actor_id (str | Unset):
        x_actor_role (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RetryFailedResponse
     """


    return (await asyncio_detailed(
        run_id=run_id,
client=client,
idempotency_key=idempotency_key,
x_actor_id=x_actor_id,
x_actor_role=x_actor_role,

    )).parsed
