"""No input gives a server error: schemathesis sends generated requests — valid ones and deliberately broken
ones — to every operation of the served spec, with an owner's token, on each database."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.core.settings import Settings
from app.main import create_app

# The served spec (a test keeps openapi/openapi.json equal to it).
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())
schema.config.generation.update(max_examples=15, with_security_parameters=False)


def _httpx_arguments(case, headers: dict[str, str]) -> dict:
    arguments = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    arguments.pop("cookies", None)
    data = arguments.pop("data", None)
    if isinstance(data, (str, bytes)):
        arguments["content"] = data
    elif data is not None:
        arguments["data"] = data
    return arguments


@schema.parametrize()
@settings(deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
async def test_no_request_gets_a_server_error_and_every_answer_matches_the_spec(case, api):
    response = await api.client.request(**_httpx_arguments(case, api.headers))

    # A 5xx for any input is a bug; so is an answer that is not what the spec says it is.
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
