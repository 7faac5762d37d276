"""Drives a streamable HTTP MCP server with the official Python MCP client and prints what happened as JSON.

Usage: python drive_http.py PLAN_JSON
PLAN_JSON: {"url": str, "token": str | null, "calls": [{"tool": str, "arguments": {...}}],
            "repeat": int (optional: make the calls this many times over, for load)}
A connection the server refuses prints {"error": "..."} and exits 0.
"""

import json
import sys

import anyio
from drive_common import call_all, print_report
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}"


async def main() -> None:
    plan = json.loads(sys.argv[1])
    headers = {"Authorization": f"Bearer {plan['token']}"} if plan.get("token") else {}
    try:
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(plan["url"], http_client=http) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    init = await session.initialize()
                    tools = await session.list_tools()
                    calls = await call_all(session, plan["calls"] * plan.get("repeat", 1))
        print_report(init, tools, calls)
    except BaseException as error:  # noqa: BLE001 - report any refusal as data
        print(json.dumps({"error": describe(error)}))


anyio.run(main)
