"""Drives a stdio MCP server with the official Python MCP client and prints what happened as JSON.

Usage: python drive_stdio.py PLAN_JSON
PLAN_JSON: {"command": str, "args": [str], "elicitation": "none"|"accept"|"decline",
            "calls": [{"tool": str, "arguments": {...}}], "env": {str: str} (optional, added to the server's)}
The server's stderr passes through to this script's stderr.
"""

import json
import sys

import anyio
from drive_common import call_all, print_report
from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client


async def main() -> None:
    plan = json.loads(sys.argv[1])
    answer = plan.get("elicitation", "none")

    async def elicit(context, params):
        return types.ElicitResult(action=answer, content={} if answer == "accept" else None)

    params = StdioServerParameters(command=plan["command"], args=plan["args"], env=plan.get("env"))
    async with stdio_client(params, errlog=sys.stderr) as (read, write):
        async with ClientSession(read, write, elicitation_callback=None if answer == "none" else elicit) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            calls = await call_all(session, plan["calls"])
    print_report(init, tools, calls)


anyio.run(main)
