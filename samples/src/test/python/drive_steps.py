"""Drives a stdio MCP server through a list of steps with the official Python MCP client and prints
what happened as JSON: each tools/list (names and published pins) and each call, in order, and how
many tools/list_changed notifications arrived.

Usage: python drive_steps.py PLAN_JSON
PLAN_JSON: {"command": str, "args": [str], "env": {str: str} (optional, added to the server's),
            "steps": [{"list": true} | {"tool": str, "arguments": {...}}]}
The server's stderr passes through to this script's stderr.
"""

import json
import sys

import anyio
from drive_common import call_one
from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client

PIN_KEY = "dev.mcpsecure/sha256"


async def main() -> None:
    plan = json.loads(sys.argv[1])
    changed = 0

    async def on_message(message) -> None:
        nonlocal changed
        # mcp 2.x hands over the notification itself (1.x wrapped it in .root)
        if isinstance(getattr(message, "root", message), types.ToolListChangedNotification):
            changed += 1

    steps = []
    params = StdioServerParameters(command=plan["command"], args=plan["args"], env=plan.get("env"))
    async with stdio_client(params, errlog=sys.stderr) as (read, write):
        async with ClientSession(read, write, message_handler=on_message) as session:
            await session.initialize()
            for step in plan["steps"]:
                if step.get("list"):
                    tools = await session.list_tools()
                    steps.append(
                        {"tools": {tool.name: (tool.meta or {}).get(PIN_KEY) for tool in tools.tools}}
                    )
                else:
                    steps.append(await call_one(session, step))
    print(json.dumps({"steps": steps, "listChanged": changed}))


anyio.run(main)
