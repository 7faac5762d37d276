"""What the stdio and HTTP drivers share: making the planned calls and printing the report."""

import json


async def call_one(session, call):
    """Calls one planned tool; returns what came back as a dict."""
    result = await session.call_tool(call["tool"], call.get("arguments", {}))
    return {
        "tool": call["tool"],
        "isError": bool(result.is_error),
        "text": [c.text for c in result.content if c.type == "text"],
        "meta": result.meta or {},
    }


async def call_all(session, planned):
    """Calls each planned tool; returns what came back, one dict per call."""
    return [await call_one(session, call) for call in planned]


def print_report(init, tools, calls) -> None:
    """Prints the session as one JSON line on stdout."""
    print(
        json.dumps(
            {
                "protocolVersion": init.protocol_version,
                "serverName": init.server_info.name,
                "tools": sorted(tool.name for tool in tools.tools),
                "calls": calls,
            }
        )
    )
