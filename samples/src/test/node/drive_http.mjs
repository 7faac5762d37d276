// Drives a streamable HTTP MCP server with the official TypeScript MCP SDK and prints what
// happened as JSON.
// Usage: node drive_http.mjs PLAN_JSON
// PLAN_JSON: {"url": str, "token": str|null, "calls": [{"tool": str, "arguments": {...}}]}
// A connection the server refuses prints {"error": "..."} and exits 0.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const plan = JSON.parse(process.argv[2]);
const headers = plan.token ? { Authorization: `Bearer ${plan.token}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(plan.url), { requestInit: { headers } });
const client = new Client({ name: "mcp-secure-ts-it", version: "1.0.0" });
try {
  await client.connect(transport);
  const tools = await client.listTools();
  const calls = [];
  for (const call of plan.calls) {
    const result = await client.callTool({ name: call.tool, arguments: call.arguments ?? {} });
    calls.push({
      tool: call.tool,
      isError: Boolean(result.isError),
      text: result.content.filter((c) => c.type === "text").map((c) => c.text),
      meta: result._meta ?? {},
    });
  }
  console.log(
    JSON.stringify({
      protocolVersion: transport.protocolVersion,
      serverName: client.getServerVersion()?.name,
      tools: tools.tools.map((t) => t.name).sort(),
      calls,
    }),
  );
  await client.close();
} catch (e) {
  console.log(JSON.stringify({ error: String(e) }));
}
